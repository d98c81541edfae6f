"""``SubnetCostTable``: FLOPs and params of any subnet of a one-shot supernet, from
per-op costs measured once (no forward per subnet)."""
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn as nn

from mmrazor.registry import TASK_UTILS

from .counters.flops_params_counter import count_model
from .units import convert

Cost = Tuple[float, float]  # (flops per sample, params), plain counts
# relative disagreement of the fixed part between passes that still counts as equal
TOLERANCE = 1e-9


class UnsupportedSpaceError(ValueError):
    """The search space is not a sum of independent per-op costs."""


@TASK_UTILS.register_module()
class SubnetCostTable:
    """Per-op cost tables of a single-path supernet (SPOS, DetNAS).

    In such a space every block picks one candidate op (a ``OneShotMutableOP``) and
    all candidates of a block take and give tensors of one shape, so a subnet's
    FLOPs and params are the fixed part's plus those of the chosen ops. One counting
    pass per candidate index (4 for SPOS ShuffleNetV2) measures every candidate at
    its real input shape with the estimator's counters; afterwards a subnet costs
    one table look-up per search group. The figures equal the estimator's count of
    the exported static subnet.

    Args:
        model (nn.Module): An algorithm with ``mutator`` (a prepared
            ``NasMutator``) and ``architecture``; a detector's backbone is measured,
            as ``check_subnet_resources`` does.
        estimator (ResourceEstimator): Gives the input shape, counters, input
            constructor and units.

    Raises:
        UnsupportedSpaceError: the space has channel or value choices, or a choice
            changes a shape or the cost outside its op; count per subnet instead.
    """

    def __init__(self, model: nn.Module, estimator: Any) -> None:
        from mmrazor.engine.runner.utils.check import measured_part
        from mmrazor.models.mutables import OneShotMutableOP
        cfg = dict(getattr(estimator, 'flops_params_cfg', {}) or {})
        if getattr(estimator, 'as_strings', False) or cfg.get('spec_modules'):
            raise UnsupportedSpaceError('cost tables give numbers for the whole measured '
                                        'model (no as_strings, no spec_modules)')
        self.units = dict(estimator.units)
        self._count_cfg = dict(input_shape=cfg.get('input_shape', estimator.input_shape),
                               disabled_counters=cfg.get('disabled_counters', ()),
                               input_constructor=cfg.get('input_constructor'))
        mutator = model.mutator
        self._groups = mutator.search_groups
        bad = [key for key, group in self._groups.items()
               if not all(isinstance(m, OneShotMutableOP) for m in group)]
        if bad:
            raise UnsupportedSpaceError(f'search groups {bad[:5]} are not one-shot op '
                                        'choices (OneShotMutableOP)')
        self._measured = measured_part(model.architecture)
        self._names = {id(m): name for name, m in self._measured.named_modules()}
        previous = mutator.current_choices
        try:
            self._build(mutator)
        finally:
            if all(choice is not None for choice in previous.values()):
                mutator.set_choices(previous)

    # ---- building ---------------------------------------------------------------

    def _unfixed(self, group: List[nn.Module]) -> List[Tuple[str, nn.Module]]:
        """The group's unfixed mutables inside the measured model, by name."""
        return [(self._names[id(m)], m) for m in group
                if id(m) in self._names and not m.is_fixed]

    def _build(self, mutator: nn.Module) -> None:
        passes = max(len(group[0].choices) for group in self._groups.values())
        shapes: Dict[str, Any] = {}
        fixed_flops: List[float] = []
        self.tables: Dict[str, Dict[str, Cost]] = {key: {} for key in self._groups}
        report = None
        for index in range(passes):
            choices = {key: group[0].choices[index % len(group[0].choices)]
                       for key, group in self._groups.items()}
            mutator.set_choices(choices)
            report = self._count(shapes)
            chosen = 0.
            for key, group in self._groups.items():
                choice = choices[key]
                flops = sum(report.flops[f'{name}._candidates.{choice}']
                            for name, _ in self._unfixed(group))
                params = sum(report.params[f'{name}._candidates.{choice}']
                             for name, _ in self._unfixed(group))
                self.tables[key][choice] = (flops, params)
                chosen += flops
            fixed_flops.append(report.flops[''] - chosen)
        low, high = min(fixed_flops), max(fixed_flops)
        if high - low > TOLERANCE * max(abs(high), 1.):
            raise UnsupportedSpaceError(f'the cost outside the chosen ops changes with the '
                                        f'choices ({low} to {high} FLOPs)')
        all_candidates = sum(report.params[f'{name}._candidates.{choice}']
                             for group in self._groups.values()
                             for name, mutable in self._unfixed(group)
                             for choice in mutable.choices)
        self.fixed: Cost = (fixed_flops[0], report.params[''] - all_candidates)

    def _count(self, shapes: Dict[str, Any]) -> Any:
        """Count the measured model once, checking that every op gives the shape it
        gave in earlier passes (else costs would not add up)."""
        handles = []

        def record(name: str):
            def hook(module: nn.Module, args: tuple, output: Any) -> None:
                shape = tuple(output.shape) if isinstance(output, torch.Tensor) else None
                if shapes.setdefault(name, shape) != shape:
                    raise UnsupportedSpaceError(f'{name} gives {shape} or {shapes[name]} '
                                                'depending on its choice')
            return hook

        for group in self._groups.values():
            for name, mutable in self._unfixed(group):
                handles.append(mutable.register_forward_hook(record(name)))
        try:
            return count_model(self._measured, **self._count_cfg)
        except ValueError as error:  # the counting pass wraps errors of the forward
            if isinstance(error.__cause__, UnsupportedSpaceError):
                raise error.__cause__ from None
            raise
        finally:
            for handle in handles:
                handle.remove()

    # ---- use ----------------------------------------------------------------------

    def cost(self, subnet: Dict[str, Any]) -> Cost:
        """``(flops, params)`` of ``subnet`` as plain counts."""
        flops, params = self.fixed
        for key, choice in subnet.items():
            op_flops, op_params = self.tables[key][choice]
            flops += op_flops
            params += op_params
        return flops, params

    def estimate(self, subnet: Dict[str, Any]) -> Dict[str, float]:
        """``flops`` and ``params`` of ``subnet`` (``{search group: choice}``) in the
        estimator's units, as its ``estimate`` of the static subnet gives them."""
        missing = [key for key in self.tables if key not in subnet]
        unknown = [key for key in subnet if key not in self.tables]
        if missing or unknown:
            raise KeyError(f'the subnet must give one choice per search group; missing '
                           f'{missing[:5]}, unknown {unknown[:5]}')
        flops, params = self.cost(subnet)
        return dict(flops=convert(flops, self.units.get('flops', 'M')),
                    params=convert(params, self.units.get('params', 'M')))

    @classmethod
    def try_build(cls, model: nn.Module, estimator: Any) -> Optional['SubnetCostTable']:
        """The tables, or None when the space is not additive (count instead)."""
        try:
            return cls(model, estimator)
        except UnsupportedSpaceError:
            return None
