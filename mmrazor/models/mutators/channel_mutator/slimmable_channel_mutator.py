"""``SlimmableChannelMutator``: switches a slimmable network between its subnets."""
from typing import Any, Dict, List, Optional

from mmrazor.models.mutables import SlimmableChannelUnit
from mmrazor.registry import MODELS

from .channel_mutator import ChannelMutator


@MODELS.register_module()
class SlimmableChannelMutator(ChannelMutator[SlimmableChannelUnit]):
    """A channel mutator over ``SlimmableChannelUnit``s: subnet ``i`` takes the
    ``i``-th candidate of every unit.

    Args: as :class:`ChannelMutator`, with ``SlimmableChannelUnit`` units by default
        (their ``candidate_choices`` usually come from ``units``, a JSON file).
    """

    def __init__(self,
                 channel_unit_cfg: Dict = dict(type='SlimmableChannelUnit', units={}),  # noqa: B006
                 parse_cfg: Dict = dict(  # noqa: B006
                     _scope_='mmrazor', type='ChannelAnalyzer',
                     demo_input=(1, 3, 224, 224), tracer_type='BackwardTracer'),
                 custom_groups: Optional[List[List[str]]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(channel_unit_cfg, parse_cfg, custom_groups, init_cfg)

    @property
    def subnets(self) -> List[Dict[str, Any]]:
        """The subnets: ``{unit name: i-th candidate}`` for each ``i``."""
        units = self.mutable_units
        counts = {unit.name: len(unit.candidate_choices) for unit in units}
        if len(set(counts.values())) > 1:
            raise ValueError(f'slimmable units must have equally many candidate choices; '
                             f'got {counts}')
        num = next(iter(counts.values()), 0)
        return [{unit.name: unit.candidate_choices[i] for unit in units} for i in range(num)]
