"""Pruning algorithms."""
from .ite_prune_algorithm import ItePruneAlgorithm, ItePruneConfigManager

__all__ = ['ItePruneAlgorithm', 'ItePruneConfigManager']
from .dcff import DCFF  # noqa: E402
from .dmcp import DMCP  # noqa: E402
from .slimmable_network import SlimmableNetwork  # noqa: E402

__all__ += ['DCFF', 'DMCP', 'SlimmableNetwork']
from .group_fisher_algorithm import GroupFisherAlgorithm  # noqa: E402
from .group_fisher_sub_model import (  # noqa: E402
    GroupFisherDeploySubModel,
    GroupFisherSubModel,
)

__all__ += ['GroupFisherAlgorithm', 'GroupFisherSubModel', 'GroupFisherDeploySubModel']
