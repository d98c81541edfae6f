"""``PrunedMultiheadAttention``: torch's ``nn.MultiheadAttention`` after pruning.

``nn.MultiheadAttention`` ties its inner width (``num_heads * head_dim``) to its input
and output width (``embed_dim``). Pruning head dims, or the residual channels around
the attention, breaks that tie, so the pruned layer is this module: the same call
(``query, key, value, key_padding_mask, need_weights, attn_mask,
average_attn_weights, is_causal``), the same state-dict keys (``in_proj_weight``,
``in_proj_bias``, ``out_proj.*``), any widths. Its dynamic op computes through the same
:func:`multihead_attention`, so pruned and exported models agree exactly. The scale is
the full model's ``1/sqrt(head_dim)``: pruning removes dims and changes nothing else.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


def _float_mask(mask: Optional[torch.Tensor], dtype: torch.dtype) -> Optional[torch.Tensor]:
    """torch's masks: a bool ``True`` means "do not attend"; floats are added."""
    if mask is None or mask.is_floating_point():
        return mask
    return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(
        mask, float('-inf'))


def multihead_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                        in_weight: torch.Tensor, in_bias: Optional[torch.Tensor],
                        out_weight: torch.Tensor, out_bias: Optional[torch.Tensor],
                        num_heads: int, scale: float, dropout: float, training: bool,
                        batch_first: bool, key_padding_mask: Optional[torch.Tensor] = None,
                        need_weights: bool = True, attn_mask: Optional[torch.Tensor] = None,
                        average_attn_weights: bool = True, is_causal: bool = False
                        ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """``nn.MultiheadAttention``'s computation with a packed in-projection of any
    width (``3 * num_heads * head_dim`` rows)."""
    unbatched = query.dim() == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        batch_first = False
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    if not batch_first:
        query, key, value = (t.transpose(0, 1) for t in (query, key, value))
    inner = in_weight.shape[0] // 3
    head_dim = inner // num_heads
    w_q, w_k, w_v = in_weight.split(inner)
    b_q, b_k, b_v = in_bias.split(inner) if in_bias is not None else (None, None, None)

    def heads(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
              ) -> torch.Tensor:
        x = F.linear(x, weight, bias)
        return x.reshape(x.shape[0], x.shape[1], num_heads, head_dim).transpose(1, 2)

    q, k, v = heads(query, w_q, b_q), heads(key, w_k, b_k), heads(value, w_v, b_v)
    batch, len_q, len_k = q.shape[0], q.shape[2], k.shape[2]
    mask = _float_mask(attn_mask, q.dtype)
    if mask is not None and mask.dim() == 3:  # (batch * heads, L, S)
        mask = mask.reshape(batch, num_heads, len_q, len_k)
    if key_padding_mask is not None:
        padding = _float_mask(key_padding_mask, q.dtype).reshape(batch, 1, 1, len_k)
        mask = padding if mask is None else mask + padding
    if mask is None and is_causal:
        mask = torch.full((len_q, len_k), float('-inf'), dtype=q.dtype,
                          device=q.device).triu(1)
    dropout = dropout if training else 0.0
    weights = None
    if need_weights:
        scores = (q @ k.transpose(-2, -1)) * scale
        if mask is not None:
            scores = scores + mask
        attn = F.dropout(scores.softmax(-1), dropout, training)  # returned as torch does
        weights = attn.mean(1) if average_attn_weights else attn
        out = attn @ v
    else:
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout,
                                             scale=scale)
    out = F.linear(out.transpose(1, 2).reshape(batch, len_q, inner), out_weight, out_bias)
    if not batch_first:
        out = out.transpose(0, 1)
    if unbatched:
        out = out.squeeze(1)
        weights = weights.squeeze(0) if weights is not None else None
    return out, weights


class PrunedMultiheadAttention(nn.Module):
    """Multi-head attention whose input, inner and output widths are independent.

    Args:
        embed_dim (int): Input channels of query, key and value.
        num_heads (int): Number of heads.
        head_dim (int): Channels per head (``inner = num_heads * head_dim``).
        out_dim (int): Output channels.
        scale (float): Factor of ``q @ k^T`` (the unpruned model's).
        bias (bool): Whether the projections have biases. Defaults to True.
        dropout (float): Attention dropout. Defaults to 0.
        batch_first (bool): Inputs are ``(batch, seq, channels)``. Defaults to False.
    """

    def __init__(self, embed_dim: int, num_heads: int, head_dim: int, out_dim: int,
                 scale: float, bias: bool = True, dropout: float = 0.0,
                 batch_first: bool = False) -> None:
        super().__init__()
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, head_dim
        self.scale, self.dropout, self.batch_first = scale, dropout, batch_first
        inner = num_heads * head_dim
        self.in_proj_weight = nn.Parameter(torch.empty(3 * inner, embed_dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * inner)) if bias else None
        self.out_proj = nn.Linear(inner, out_dim, bias=bias)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                key_padding_mask: Optional[torch.Tensor] = None, need_weights: bool = True,
                attn_mask: Optional[torch.Tensor] = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        return multihead_attention(
            query, key, value, self.in_proj_weight, self.in_proj_bias,
            self.out_proj.weight, self.out_proj.bias, self.num_heads, self.scale,
            self.dropout, self.training, self.batch_first, key_padding_mask, need_weights,
            attn_mask, average_attn_weights, is_causal)


__all__ = ['PrunedMultiheadAttention', 'multihead_attention']
