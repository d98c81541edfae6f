"""Counter of ``nn.MultiheadAttention``: projections *and* the attention matmuls.

MMRazor 1.x counted nothing here, so every transformer figure it printed was too low.
The in-projection, ``Q @ K^T``, ``softmax(.) @ V`` and the out-projection are counted
from the shapes of the call (``batch_first`` or not, separate ``kdim``/``vdim``), at
the widths computed now (pruned head dims and channels: its dynamic op, and the
``PrunedMultiheadAttention`` it exports to).
"""
from typing import Tuple

import torch.nn as nn

from mmrazor.models.architectures.dynamic_ops.bricks.dynamic_torch_attention import (
    linear_params,
)
from mmrazor.models.architectures.ops.pruned_attention import PrunedMultiheadAttention
from mmrazor.registry import TASK_UTILS

from .base_counter import BaseCounter, Cost, first_tensor


@TASK_UTILS.register_module()
class MultiheadAttentionCounter(BaseCounter):
    """FLOPs/params counter for ``nn.MultiheadAttention`` (and mmcv's wrappers of it).

    Only torch's class: mmpretrain's ``MultiheadAttention`` shares the name but is a
    container of linears and an attention function, counted through those.
    """
    module_type = (nn.MultiheadAttention, PrunedMultiheadAttention)

    @classmethod
    def count_flops(cls, module, inputs, kwargs, output) -> Cost:
        query = first_tensor(inputs, kwargs, 'query')
        key = inputs[1] if len(inputs) > 1 else kwargs['key']
        value = inputs[2] if len(inputs) > 2 else kwargs['value']
        seq_dim = 1 if module.batch_first else 0
        batch = query.shape[1 - seq_dim] if query.dim() == 3 else 1
        len_q, len_k = query.shape[seq_dim], key.shape[seq_dim]
        if query.dim() == 2:  # unbatched (L, E)
            len_q, len_k = query.shape[0], key.shape[0]
        inner, out_features = _widths(module)
        projections = (len_q * query.shape[-1] + len_k * key.shape[-1]
                       + len_k * value.shape[-1]) * inner
        attention = 2 * len_q * len_k * inner  # Q @ K^T and A @ V over all heads
        out_projection = len_q * inner * out_features
        return Cost(batch * (projections + attention + out_projection), 0)


def _widths(module: nn.Module) -> Tuple[int, int]:
    """(heads x head dims, output channels) computed now: pruned ones count less."""
    active = getattr(module, 'active_in_proj', None)
    weight = active()[0] if active is not None else module.in_proj_weight
    inner = weight.shape[0] // 3 if weight is not None else module.embed_dim
    return inner, linear_params(module.out_proj)[0].shape[0]
