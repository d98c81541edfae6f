"""``BaseCounter``: what every FLOPs/params counter of a layer type implements.

The estimator gives a module to the counter of the first class in the module's MRO
that has one (``<ClassName>Counter`` in ``TASK_UTILS``) and that ``applies_to`` it; the
counter then accounts for the module and all its children. Counters compute FLOPs from
the tensors the forward really used (input and output shapes, the module's *active*
parameters), so a layer that exposes only part of its weights (``active_parameters``)
is counted at its current width, not its largest one.
"""
from typing import Any, ClassVar, Dict, NamedTuple, Optional, Tuple, Type, Union

import torch
import torch.nn as nn
from torch.nn.utils import parametrize

Inputs = Tuple[Any, ...]


class Cost(NamedTuple):
    """FLOPs of one call, split into multiply-accumulates and element-wise work.

    ``macs``: conv, linear and matmul work (one per multiply-accumulate, the figure
    papers publish and ``FlopCounterMode`` doubles). ``elementwise``: bias adds, norms,
    activations, pooling, upsampling (one per element, as MMRazor and mmcv count).
    """
    macs: int = 0
    elementwise: int = 0


def active_parameters(module: nn.Module) -> Dict[str, torch.Tensor]:
    """The parameters ``module`` itself (not its children) computes with now.

    A module that computes with only part of its weights may define
    ``active_parameters()`` returning those slices; any other module gives its own
    parameters.
    """
    active = getattr(module, 'active_parameters', None)
    if callable(active):
        return dict(active())
    if isinstance(module, parametrize.ParametrizationList):  # a pruned layer scale
        return {'original': module()}
    return dict(module.named_parameters(recurse=False))


def count_active_params(module: nn.Module) -> int:
    """Number of active parameters of ``module`` and its children, shared ones once."""
    seen = set()
    alive = []  # sliced copies stay referenced, so no later one reuses their memory
    total = 0
    for sub in module.modules():
        for tensor in active_parameters(sub).values():
            alive.append(tensor)
            # shared weights are the same memory viewed alike, whatever their ids
            key = (tensor.data_ptr(), tuple(tensor.shape), tuple(tensor.stride()))
            if key not in seen:
                seen.add(key)
                total += tensor.numel()
    return total


def first_tensor(inputs: Inputs, kwargs: Dict[str, Any], name: str = 'input') -> torch.Tensor:
    """The first positional tensor of a call, or ``kwargs[name]``."""
    if inputs and isinstance(inputs[0], torch.Tensor):
        return inputs[0]
    value = kwargs.get(name)
    if isinstance(value, torch.Tensor):
        return value
    raise TypeError(f'expected a tensor as the first input or as {name!r}; got '
                    f'{[type(x).__name__ for x in inputs]} and keys {sorted(kwargs)}')


def output_tensor(output: Any) -> torch.Tensor:
    """The tensor a layer returned (the first one if it returned a tuple)."""
    if isinstance(output, (tuple, list)):
        output = output[0]
    if not isinstance(output, torch.Tensor):
        raise TypeError(f'expected a tensor output, got {type(output).__name__}')
    return output


class BaseCounter:
    """Counts the FLOPs and parameters of one layer type.

    Subclasses set ``module_type`` (the counter then applies to instances of it only:
    two libraries may name different classes alike, e.g. ``MultiheadAttention``) and
    implement ``count_flops``. ``count_params`` defaults to the active parameters of the
    module and its children.

    A counter written for MMRazor 1.x, with a static ``add_count_hook(module, input,
    output)`` that adds to ``module.__flops__`` and ``module.__params__``, works as is.
    """

    module_type: ClassVar[Optional[Union[Type[nn.Module], Tuple[Type[nn.Module], ...]]]] = None

    @classmethod
    def applies_to(cls, module: nn.Module) -> bool:
        """Whether this counter accounts for ``module``."""
        return cls.module_type is None or isinstance(module, cls.module_type)

    @classmethod
    def count_flops(cls, module: nn.Module, inputs: Inputs, kwargs: Dict[str, Any],
                    output: Any) -> Cost:
        """FLOPs of one call of ``module`` (for the whole batch)."""
        raise NotImplementedError(f'{cls.__name__} must implement count_flops or '
                                  'add_count_hook')

    @classmethod
    def count_params(cls, module: nn.Module) -> int:
        """Parameters of ``module`` and its children at their current width."""
        return count_active_params(module)

    @staticmethod
    def add_count_hook(module: nn.Module, input: Inputs, output: Any) -> None:
        """MMRazor 1.x's counter interface; ``count_flops`` replaces it."""
        raise NotImplementedError

    @classmethod
    def is_legacy(cls) -> bool:
        """Whether the counter uses MMRazor 1.x's ``add_count_hook`` interface."""
        return cls.add_count_hook is not BaseCounter.add_count_hook
