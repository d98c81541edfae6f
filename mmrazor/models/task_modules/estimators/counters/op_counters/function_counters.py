"""Counters of matmul-type *functions* called outside counted layers.

Attention is mostly written as functions: ``q @ k.transpose(-2, -1)`` in Swin's
``WindowMSA``, ``F.scaled_dot_product_attention`` in mmpretrain's ViT, ``torch.einsum``
or ``torch.bmm`` elsewhere. The estimator watches torch functions while the model runs
(a ``TorchFunctionMode``) and counts these where no layer counter already accounts for
them. Element-wise functions (``F.relu``, ``x + y``) are not counted, as in MMRazor 1.x
and ``torch.utils.flop_counter``.
"""
import math
from typing import Any, Callable, ClassVar, Dict, Tuple

import torch
import torch.nn.functional as F

from mmrazor.registry import TASK_UTILS

from .base_counter import Cost


class BaseFunctionCounter:
    """Counts the FLOPs of calls to the torch functions in ``functions``."""

    functions: ClassVar[Tuple[Callable, ...]] = ()

    @classmethod
    def count(cls, func: Callable, args: Tuple[Any, ...], kwargs: Dict[str, Any],
              output: Any) -> Cost:
        """FLOPs of one call ``func(*args, **kwargs) -> output``."""
        raise NotImplementedError


def _numel(output: Any) -> int:
    return output.numel() if isinstance(output, torch.Tensor) else 0


@TASK_UTILS.register_module()
class MatmulCounter(BaseFunctionCounter):
    """``@``, ``matmul``, ``mm``, ``bmm``: each output element is a dot product."""
    functions = (torch.matmul, torch.Tensor.matmul, torch.Tensor.__matmul__, torch.mm,
                 torch.Tensor.mm, torch.bmm, torch.Tensor.bmm)

    @classmethod
    def count(cls, func, args, kwargs, output) -> Cost:
        left = args[0] if args else kwargs['input']
        return Cost(_numel(output) * left.shape[-1], 0)


@TASK_UTILS.register_module()
class RightMatmulCounter(BaseFunctionCounter):
    """``other @ tensor`` dispatched to ``tensor.__rmatmul__(other)``."""
    functions = (torch.Tensor.__rmatmul__,)

    @classmethod
    def count(cls, func, args, kwargs, output) -> Cost:
        return Cost(_numel(output) * args[1].shape[-1], 0)


@TASK_UTILS.register_module()
class AddmmCounter(BaseFunctionCounter):
    """``addmm``/``baddbmm``: a matmul plus one add per output element."""
    functions = (torch.addmm, torch.Tensor.addmm, torch.baddbmm, torch.Tensor.baddbmm)

    @classmethod
    def count(cls, func, args, kwargs, output) -> Cost:
        left = args[1] if len(args) > 1 else kwargs.get('mat1', kwargs.get('batch1'))
        return Cost(_numel(output) * left.shape[-1], _numel(output))


@TASK_UTILS.register_module()
class EinsumCounter(BaseFunctionCounter):
    """``torch.einsum``: every output element sums over the contracted indices."""
    functions = (torch.einsum,)

    @classmethod
    def count(cls, func, args, kwargs, output) -> Cost:
        equation = args[0].replace(' ', '')
        operands = args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
        inputs, _, explicit_out = equation.partition('->')
        sizes: Dict[str, int] = {}
        for spec, operand in zip(inputs.split(','), operands):
            # letters before '...' index from the front, those after from the back
            head, _, tail = spec.partition('...')
            for i, letter in enumerate(head):
                sizes[letter] = operand.shape[i]
            for i, letter in enumerate(reversed(tail)):
                sizes[letter] = operand.shape[-1 - i]
        out_letters = set(explicit_out) if '->' in equation else {
            letter for letter in sizes if inputs.count(letter) == 1}
        contracted = math.prod(size for letter, size in sizes.items()
                               if letter not in out_letters)
        if len(operands) < 2 and contracted == 1:
            return Cost(0, 0)  # a transpose, diagonal or sum: no multiplications
        return Cost(_numel(output) * contracted, 0)


@TASK_UTILS.register_module()
class ScaledDotProductAttentionCounter(BaseFunctionCounter):
    """``F.scaled_dot_product_attention``: ``Q @ K^T`` and ``A @ V``."""
    functions = (F.scaled_dot_product_attention,)

    @classmethod
    def count(cls, func, args, kwargs, output) -> Cost:
        query = args[0] if args else kwargs['query']
        key = args[1] if len(args) > 1 else kwargs['key']
        value = args[2] if len(args) > 2 else kwargs['value']
        len_q, dim_qk = query.shape[-2:]
        len_k, dim_v = key.shape[-2], value.shape[-1]
        heads = _numel(output) // (len_q * dim_v)  # batch x heads, broadcast included
        return Cost(heads * len_q * len_k * (dim_qk + dim_v), 0)


@TASK_UTILS.register_module()
class FunctionalLinearCounter(BaseFunctionCounter):
    """``F.linear`` called directly (outside an ``nn.Linear``)."""
    functions = (F.linear,)

    @classmethod
    def count(cls, func, args, kwargs, output) -> Cost:
        x = args[0] if args else kwargs['input']
        return Cost(x.numel() * output.shape[-1], 0)


@TASK_UTILS.register_module()
class FunctionalConvCounter(BaseFunctionCounter):
    """``F.conv1d/2d/3d`` called directly (outside a conv layer)."""
    functions = (F.conv1d, F.conv2d, F.conv3d)

    @classmethod
    def count(cls, func, args, kwargs, output) -> Cost:
        weight = args[1] if len(args) > 1 else kwargs['weight']
        bias = args[2] if len(args) > 2 else kwargs.get('bias')
        return Cost(_numel(output) * weight[0].numel(), _numel(output) if bias is not None else 0)
