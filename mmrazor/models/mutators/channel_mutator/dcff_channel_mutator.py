"""``DCFFChannelMutator``: prunes by dynamic-coded filter fusion (DCFF)."""
from typing import Dict, List, Optional

from mmrazor.models.mutables import DCFFChannelUnit
from mmrazor.registry import MODELS

from .channel_mutator import ChannelMutator


@MODELS.register_module()
class DCFFChannelMutator(ChannelMutator[DCFFChannelUnit]):
    """A channel mutator over ``DCFFChannelUnit``s, whose kept filters are fusions of
    all filters at a temperature (:meth:`calc_information`).

    Args: as :class:`ChannelMutator`, with ``DCFFChannelUnit`` units by default.
    """

    def __init__(self,
                 channel_unit_cfg: Dict = dict(type='DCFFChannelUnit', units={}),  # noqa: B006
                 parse_cfg: Dict = dict(  # noqa: B006
                     _scope_='mmrazor', type='ChannelAnalyzer',
                     demo_input=(1, 3, 224, 224), tracer_type='BackwardTracer'),
                 custom_groups: Optional[List[List[str]]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(channel_unit_cfg, parse_cfg, custom_groups, init_cfg)

    def calc_information(self, tau: float) -> None:
        """At temperature ``tau``, select again which channels each unit keeps and
        how all filters of its convs fuse into them (call after changing widths)."""
        for unit in self.mutable_units:
            unit.update_fusion(tau)
