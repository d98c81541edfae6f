"""A torch.ao ``BackendConfig`` that says what a :class:`QuantizationPolicy` quantizes.

Our quantizers prepare graphs by their policy; the ``BackendConfig`` is the same
knowledge in torch.ao's public format, for tools that speak it (torch.ao's
``prepare_fx`` / ``convert_fx``, deployment converters). Fusion patterns and the
modules torch.ao needs to run them (fused, QAT and reference modules) come from torch's
own native config; the policy decides which of them exist:

* a ``compute`` module with the followers our quantizer fuses (BatchNorm after a
  conv, ReLU when ``fuse_relu``), weights quantized;
* a ``binary`` op (ReLU fused likewise): inputs and output observed separately;
* a ``passthrough`` op: output shares its input's observer;
* ops of ``float_modules`` and ops the policy does not name: absent (kept float).
"""
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.ao.quantization.backend_config import (
    BackendConfig,
    BackendPatternConfig,
    DTypeConfig,
    ObservationType,
    get_native_backend_config,
)

from mmrazor.utils.compat import install_ao_backend_config_fix

from ..policy import QuantizationPolicy

install_ao_backend_config_fix()

# activation dtypes, weight dtypes of each backend's int8 kernels
BACKEND_DTYPES: Dict[str, Tuple[Tuple[torch.dtype, ...], Tuple[torch.dtype, ...]]] = {
    'native': ((torch.quint8, ), (torch.qint8, )),
    'openvino': ((torch.quint8, ), (torch.qint8, )),
    'tensorrt': ((torch.qint8, ), (torch.qint8, )),
    'academic': ((torch.quint8, torch.qint8), (torch.qint8, torch.quint8)),
}

_RELUS = (nn.ReLU, F.relu, torch.relu)
_DIFFERENT = ObservationType.OUTPUT_USE_DIFFERENT_OBSERVER_AS_INPUT
_SHARE = ObservationType.OUTPUT_SHARE_OBSERVER_WITH_INPUT


def dtype_configs(backend: str) -> Tuple[List[DTypeConfig], List[DTypeConfig]]:
    """``(weighted, unweighted)`` dtype configs of ``backend`` (see ``BACKEND_DTYPES``)."""
    if backend not in BACKEND_DTYPES:
        raise KeyError(f'unknown quantization backend {backend!r}; '
                       f'known: {sorted(BACKEND_DTYPES)}')
    activations, weights = BACKEND_DTYPES[backend]
    weighted = [
        DTypeConfig(input_dtype=a, output_dtype=a, weight_dtype=w, bias_dtype=torch.float)
        for a in activations for w in weights
    ]
    return weighted, [DTypeConfig(input_dtype=a, output_dtype=a) for a in activations]


def build_backend_config(backend: str,
                         policy: Optional[QuantizationPolicy] = None) -> BackendConfig:
    """The ``BackendConfig`` named ``backend`` for what ``policy`` quantizes.

    Args:
        backend (str): One of ``BACKEND_DTYPES`` (its int8 dtypes).
        policy (QuantizationPolicy, optional): Defaults to ``QuantizationPolicy()``.
    """
    policy = QuantizationPolicy() if policy is None else policy
    weighted, unweighted = dtype_configs(backend)
    configs = _kept_torch_patterns(policy)
    made = set().union(*(_made_modules(config) for config in configs))
    for config in configs:
        root = _ops(config.pattern)[0]
        with_weight = _is_compute(root, policy) or config.pattern in made
        config.set_dtype_configs(weighted if with_weight else unweighted)
        if _is_binary(root, policy):
            config.set_observation_type(_DIFFERENT)
        elif _is_passthrough(root, policy):
            config.set_observation_type(_SHARE)
    covered = {_ops(config.pattern)[0] for config in configs}
    for op, observation in _policy_ops(policy):
        if op not in covered and not _is_float(op, policy):
            configs.append(BackendPatternConfig(op).set_observation_type(observation)
                           .set_dtype_configs(unweighted))
    return BackendConfig(backend).set_backend_pattern_configs(configs)


def _kept_torch_patterns(policy: QuantizationPolicy) -> List[BackendPatternConfig]:
    """torch's native pattern configs for the policy's ops and fusions, and the ones
    for the fused / QAT modules those create."""
    kept, derived, rest = [], set(), list(get_native_backend_config().configs)
    for config in rest[:]:
        if _fusion_allowed(_ops(config.pattern), policy):
            kept.append(config)
            rest.remove(config)
            derived.update(_made_modules(config))
    grew = True
    while grew:
        grew = False
        for config in rest[:]:
            if config.pattern in derived:
                kept.append(config)
                rest.remove(config)
                derived.update(_made_modules(config))
                grew = True
    return [BackendPatternConfig.from_dict(config.to_dict()) for config in kept]


def _fusion_allowed(ops: Sequence[Any], policy: QuantizationPolicy) -> bool:
    """Whether our quantizer fuses / quantizes this (root, *followers) pattern."""
    root, followers = ops[0], list(ops[1:])
    if _is_float(root, policy):
        return False
    if _is_compute(root, policy):
        if followers and followers[0] is nn.BatchNorm2d and issubclass(root, nn.Conv2d):
            followers.pop(0)
    elif not _is_binary(root, policy):
        return not followers and _is_passthrough(root, policy)
    return not followers or (policy.fuse_relu and len(followers) == 1
                             and followers[0] in _RELUS)


def _policy_ops(policy: QuantizationPolicy) -> Iterable[Tuple[Any, ObservationType]]:
    """Every op the policy names outside compute modules, with its observation type."""
    for op in (*sorted(policy.binary_functions, key=_name),
               *sorted(policy.binary_methods)):
        yield op, _DIFFERENT
    for op in (*policy.passthrough_modules, *sorted(policy.passthrough_functions, key=_name),
               *sorted(policy.passthrough_methods)):
        yield op, _SHARE


def _ops(pattern: Any) -> Tuple[Any, ...]:
    return pattern if isinstance(pattern, tuple) else (pattern, )


def _made_modules(config: BackendPatternConfig) -> Set[type]:
    return {m for m in (config.fused_module, config.qat_module) if m is not None}


def _is_compute(op: Any, policy: QuantizationPolicy) -> bool:
    return isinstance(op, type) and op in policy.compute_modules


def _is_binary(op: Any, policy: QuantizationPolicy) -> bool:
    return op in policy.binary_functions or op in policy.binary_methods


def _is_passthrough(op: Any, policy: QuantizationPolicy) -> bool:
    if isinstance(op, type):
        return op in policy.passthrough_modules
    return op in policy.passthrough_functions or op in policy.passthrough_methods


def _is_float(op: Any, policy: QuantizationPolicy) -> bool:
    if not isinstance(op, type):
        return False
    return bool({op.__name__, f'{op.__module__}.{op.__qualname__}'} & policy.float_modules)


def _name(op: Callable) -> str:
    return f'{getattr(op, "__module__", "")}.{getattr(op, "__name__", str(op))}'
