"""``OneShotChannelMutator``: samples the largest, smallest or a random width per
unit (AutoSlim)."""
from typing import Any, Dict, List, Optional

from mmrazor.models.mutables import OneShotMutableChannelUnit
from mmrazor.registry import MODELS

from .channel_mutator import ChannelMutator

SAMPLE_KINDS = ('random', 'max', 'min')


@MODELS.register_module()
class OneShotChannelMutator(ChannelMutator[OneShotMutableChannelUnit]):
    """A channel mutator whose units take candidate widths.

    Args: as :class:`ChannelMutator`, with ``OneShotMutableChannelUnit`` units by
        default.
    """

    def __init__(self,
                 channel_unit_cfg: Dict = dict(  # noqa: B006
                     type='OneShotMutableChannelUnit', default_args=dict()),
                 parse_cfg: Dict = dict(  # noqa: B006
                     _scope_='mmrazor', type='ChannelAnalyzer',
                     demo_input=(1, 3, 224, 224), tracer_type='BackwardTracer'),
                 custom_groups: Optional[List[List[str]]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(channel_unit_cfg, parse_cfg, custom_groups, init_cfg)

    def sample_choices(self, kind: str = 'random') -> Dict[str, Any]:
        """One choice per search group: 'random', 'max' or 'min'."""
        if kind not in SAMPLE_KINDS:
            raise ValueError(f'kind must be one of {SAMPLE_KINDS}, got {kind!r}')
        if kind == 'random':
            return super().sample_choices()
        return self.max_choices if kind == 'max' else self.min_choices

    @property
    def max_choices(self) -> Dict[str, Any]:
        """The largest choice of every mutable unit."""
        return {unit.name: unit.max_choice for unit in self.mutable_units}

    @property
    def min_choices(self) -> Dict[str, Any]:
        """The smallest choice of every mutable unit."""
        return {unit.name: unit.min_choice for unit in self.mutable_units}

    def set_max_choices(self) -> None:
        """Every unit at its largest width."""
        self.set_choices(self.max_choices)

    def set_min_choices(self) -> None:
        """Every unit at its smallest width."""
        self.set_choices(self.min_choices)
