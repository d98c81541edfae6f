"""Loops for the MMEngine Runner."""
from .distill_val_loop import SelfDistillValLoop, SingleTeacherDistillValLoop
from .prune_val_loop import ItePruneValLoop

__all__ = ['SingleTeacherDistillValLoop', 'SelfDistillValLoop', 'ItePruneValLoop']
from .slimmable_val_loop import SlimmableValLoop  # noqa: E402

__all__ += ['SlimmableValLoop']
from .quantization_loops import LSQEpochBasedLoop, PTQLoop, QATEpochBasedLoop, QATValLoop  # noqa: E402

__all__ += ['PTQLoop', 'QATEpochBasedLoop', 'LSQEpochBasedLoop', 'QATValLoop']
from .evolution_search_loop import EvolutionSearchLoop  # noqa: E402
from .subnet_val_loop import SubnetValLoop  # noqa: E402

__all__ += ['EvolutionSearchLoop', 'SubnetValLoop']
from .darts_loop import DartsEpochBasedTrainLoop, DartsIterBasedTrainLoop  # noqa: E402

__all__ += ['DartsEpochBasedTrainLoop', 'DartsIterBasedTrainLoop']
from .autoslim_greedy_search_loop import AutoSlimGreedySearchLoop  # noqa: E402

__all__ += ['AutoSlimGreedySearchLoop']
from .sampler_train_loop import BaseSamplerTrainLoop, GreedySamplerTrainLoop  # noqa: E402

__all__ += ['BaseSamplerTrainLoop', 'GreedySamplerTrainLoop']
