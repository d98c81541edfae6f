"""``check_subnet_resources``: does a subnet meet the search's resource constraints?"""
from typing import Any, Dict, Optional, Tuple

import torch
import torch.nn as nn

from mmrazor.models.task_modules.estimators.units import RESOURCE_KEYS
from mmrazor.structures import export_fix_subnet

Range = Tuple[float, float]
# measured when a latency constraint is set and the estimator has no latency_cfg
DEFAULT_LATENCY_CFG = dict(max_iter=100)


def check_constraints_range(constraints_range: Optional[Dict[str, Any]]) -> Dict[str, Range]:
    """``constraints_range`` with every value as ``(low, high)`` (a scalar ``v``
    means ``(0, v)``), or a clear error naming the measurable resources."""
    if constraints_range is None:
        return {}
    if not isinstance(constraints_range, dict):
        raise TypeError(f'constraints_range must be a dict like dict(flops=(0, 330)), got '
                        f'{constraints_range!r}')
    ranges = {}
    for key, value in constraints_range.items():
        if key not in RESOURCE_KEYS:
            raise KeyError(f'constraints_range has {key!r}, which the resource estimator '
                           f'cannot measure; valid keys: {", ".join(RESOURCE_KEYS)}')
        low, high = (0, value) if not isinstance(value, (list, tuple)) else tuple(value)
        if not low <= high:
            raise ValueError(f'constraints_range[{key!r}] must be (low, high) with low <= '
                             f'high, or a scalar upper bound; got {value!r}')
        ranges[key] = (float(low), float(high))
    return ranges


def within_constraints(results: Dict[str, Any], constraints_range: Dict[str, Any]) -> bool:
    """Whether every constrained figure of ``results`` lies in its range (ends
    included)."""
    ranges = check_constraints_range(constraints_range)
    return all(low <= results[key] <= high for key, (low, high) in ranges.items())


def measured_part(architecture: nn.Module) -> nn.Module:
    """What the constraints are on: a detector's backbone (as MMRazor measures
    DetNAS), else the whole architecture."""
    try:
        from mmdet.models.detectors import BaseDetector
    except ImportError:  # mmdet is optional
        return architecture
    return architecture.backbone if isinstance(architecture, BaseDetector) else architecture


@torch.no_grad()
def check_subnet_resources(model: nn.Module,
                           subnet: Dict[str, Any],
                           estimator: Any,
                           constraints_range: Optional[Dict[str, Any]] = dict(  # noqa: B006
                               flops=(0, 330))
                           ) -> Tuple[bool, Dict[str, Any]]:
    """Set ``subnet`` on ``model``, measure the exported static subnet and compare.

    Args:
        model (nn.Module): An algorithm with ``mutator`` and ``architecture``.
        subnet (dict): ``{search group: choice}``.
        estimator (ResourceEstimator): Measures the static subnet.
        constraints_range (dict, optional): ``{resource: (low, high) or high}``, in
            the estimator's units. None: no constraint (nothing measured).
            Defaults to dict(flops=(0, 330)).

    Returns:
        tuple: ``(passed, results)``, results as ``estimator.estimate`` gives them.
    """
    if constraints_range is None:
        return True, {}
    ranges = check_constraints_range(constraints_range)
    if not hasattr(model, 'mutator') or not hasattr(model, 'architecture'):
        raise AttributeError(f'check_subnet_resources needs an algorithm with a mutator and '
                             f'an architecture, got {type(model).__name__}')
    model.mutator.set_choices(subnet)
    _, static_model = export_fix_subnet(model, slice_weight=True)
    latency_cfg = None
    if 'latency' in ranges and not getattr(estimator, 'latency_cfg', None):
        latency_cfg = DEFAULT_LATENCY_CFG
    results = estimator.estimate(measured_part(static_model), latency_cfg=latency_cfg)
    return within_constraints(results, ranges), results
