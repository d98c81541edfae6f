"""``GroupFisherChannelMutator``: prunes, one channel at a time, the channel of least
normalized Fisher importance over all units."""
import math
from typing import Dict, List, Optional

from mmengine.logging import print_log

from mmrazor.models.mutables import GroupFisherChannelUnit
from mmrazor.registry import MODELS

from .channel_mutator import ChannelMutator


@MODELS.register_module()
class GroupFisherChannelMutator(ChannelMutator[GroupFisherChannelUnit]):
    """The channel mutator of Group Fisher pruning.

    The algorithm calls, around every training step, ``start_record_info`` /
    ``end_record_info``, then ``update_imp`` and ``reset_recorded_info``; every
    ``interval`` steps ``try_prune`` and ``reset_imp``.

    Args:
        channel_unit_cfg (dict): As :class:`ChannelMutator`. Defaults to
            ``dict(type='GroupFisherChannelUnit')``.
        parse_cfg (dict): As :class:`ChannelMutator`. Defaults to
            ``dict(type='ChannelAnalyzer', demo_input=(1, 3, 224, 224),
            tracer_type='FxTracer')``.
        custom_groups (list, optional): As :class:`ChannelMutator`.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 channel_unit_cfg: Dict = dict(type='GroupFisherChannelUnit'),  # noqa: B006
                 parse_cfg: Dict = dict(  # noqa: B006
                     type='ChannelAnalyzer', demo_input=(1, 3, 224, 224),
                     tracer_type='FxTracer'),
                 custom_groups: Optional[List[List[str]]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(channel_unit_cfg, parse_cfg, custom_groups, init_cfg)
        if not issubclass(self.unit_class, GroupFisherChannelUnit):
            raise TypeError(f'GroupFisherChannelMutator needs GroupFisherChannelUnit units '
                            f'(they measure Fisher importance), got '
                            f'{self.unit_class.__name__}')

    def start_record_info(self) -> None:
        """Record activations and gradients in every mutable unit."""
        for unit in self.mutable_units:
            unit.start_record_fisher_info()

    def end_record_info(self) -> None:
        """Stop recording."""
        for unit in self.mutable_units:
            unit.end_record_fisher_info()

    def reset_recorded_info(self) -> None:
        """Free what was recorded."""
        for unit in self.mutable_units:
            unit.reset_recorded()

    def update_imp(self) -> None:
        """Accumulate the recorded batch's Fisher information in every unit."""
        for unit in self.mutable_units:
            unit.update_fisher_info()

    def reset_imp(self) -> None:
        """Start accumulating Fisher information afresh."""
        for unit in self.mutable_units:
            unit.reset_fisher_info()

    def try_prune(self) -> Optional[str]:
        """Prune the one channel of least importance over all units.

        Returns:
            str | None: The name of the unit that lost a channel; None when no unit
            can lose one (all at one channel, none measured) or an importance is
            NaN (the step is skipped, as a diverging loss would otherwise prune
            at random).
        """
        best_unit, best = None, math.inf
        for unit in self.mutable_units:
            if unit.mutable_channel.activated_channels <= 1:
                continue
            importance = unit.importance()
            if bool(importance.isnan().any()):
                print_log(f'{unit.name}: NaN in the Fisher importance, no channel pruned '
                          'this time', logger='current')
                return None
            value = float(importance.min())
            if value < best:
                best_unit, best = unit, value
        if best_unit is None or not best_unit.try_to_prune_min_channel():
            return None
        print_log(f'{best_unit.name} prunes a channel with importance {best:.4g} '
                  f'({best_unit.mutable_channel.activated_channels} left)', logger='current')
        return best_unit.name
