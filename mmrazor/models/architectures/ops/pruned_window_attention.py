"""Window attention (Swin: torchvision, mmpretrain; torchvision MaxViT) with head dims
of their own.

torchvision's ``shifted_window_attention`` takes the head dims from the input width
(``C // num_heads``) and reads ``self.qkv.weight`` directly, so neither the residual
channels nor the head dims could be pruned. :func:`window_attention` computes the same
attention with any widths: input ``C_in``, ``num_heads * head_dim`` inside (from the
qkv weight), ``C_out`` out. :class:`PrunedShiftedWindowAttention` (and ``...V2``) are
torchvision's classes with that forward, reading their layers' current weights
(``DynamicLinear`` slices while pruning, plain weights after export) and the scale of
the full head dims.
"""
import math
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.utils.attention import WindowMSA
from torchvision.models.maxvit import RelativePositionalMultiHeadAttention
from torchvision.models.swin_transformer import (
    ShiftedWindowAttention,
    ShiftedWindowAttentionV2,
)

from mmrazor.models.architectures.dynamic_ops.bricks.dynamic_torch_attention import (
    linear_params,
)

MASKED = -100.0  # torchvision's value for pairs from different regions of a shift


def _windows(x: torch.Tensor, window: List[int]) -> torch.Tensor:
    """(B, H, W, C) -> (B * windows, window tokens, C)."""
    b, h, w, c = x.shape
    x = x.reshape(b, h // window[0], window[0], w // window[1], window[1], c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window[0] * window[1], c)


def _merge_windows(x: torch.Tensor, batch: int, h: int, w: int, window: List[int]
                   ) -> torch.Tensor:
    """The inverse of :func:`_windows`."""
    x = x.reshape(batch, h // window[0], w // window[1], window[0], window[1], x.shape[-1])
    return x.permute(0, 1, 3, 2, 4, 5).reshape(batch, h, w, x.shape[-1])


def _shift_mask(h: int, w: int, window: List[int], shift: List[int], device: torch.device,
                dtype: torch.dtype) -> torch.Tensor:
    """(windows, tokens, tokens): 0 within a region of the rolled map, else MASKED."""
    regions = torch.zeros(h, w, device=device)
    label = 0
    for rows in (slice(0, -window[0]), slice(-window[0], -shift[0]), slice(-shift[0], None)):
        for cols in (slice(0, -window[1]), slice(-window[1], -shift[1]),
                     slice(-shift[1], None)):
            regions[rows, cols] = label
            label += 1
    ids = _windows(regions[None, :, :, None], window).squeeze(-1)
    differ = ids[:, None, :] != ids[:, :, None]
    return torch.zeros(differ.shape, device=device, dtype=dtype).masked_fill(differ, MASKED)


def window_attention(x: torch.Tensor, qkv_weight: torch.Tensor,
                     qkv_bias: Optional[torch.Tensor], proj_weight: torch.Tensor,
                     proj_bias: Optional[torch.Tensor], position_bias: torch.Tensor,
                     window: List[int], num_heads: int, shift: List[int], scale: float,
                     attention_dropout: float = 0.0, dropout: float = 0.0,
                     logit_scale: Optional[torch.Tensor] = None, training: bool = False
                     ) -> torch.Tensor:
    """Shifted-window multi-head self-attention of ``x`` (B, H, W, C_in)."""
    batch, h, w, _ = x.shape
    pad_w, pad_h = (-w) % window[1], (-h) % window[0]
    x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    padded_h, padded_w = h + pad_h, w + pad_w
    shift = [0 if window[0] >= padded_h else shift[0], 0 if window[1] >= padded_w else shift[1]]
    shifted = sum(shift) > 0
    if shifted:
        x = torch.roll(x, shifts=(-shift[0], -shift[1]), dims=(1, 2))
    x = _windows(x, window)
    inner = qkv_weight.shape[0] // 3
    if logit_scale is not None and qkv_bias is not None:  # v2: keys get no bias
        qkv_bias = torch.cat([qkv_bias[:inner], torch.zeros_like(qkv_bias[inner:2 * inner]),
                              qkv_bias[2 * inner:]])
    qkv = F.linear(x, qkv_weight, qkv_bias)
    qkv = qkv.reshape(x.shape[0], x.shape[1], 3, num_heads, inner // num_heads)
    q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
    if logit_scale is not None:  # v2: cosine attention
        attn = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
        attn = attn * torch.clamp(logit_scale, max=math.log(100.0)).exp()
    else:
        attn = (q * scale) @ k.transpose(-2, -1)
    attn = attn + position_bias
    if shifted:
        mask = _shift_mask(padded_h, padded_w, window, shift, x.device, attn.dtype)
        windows = mask.shape[0]
        attn = attn.reshape(-1, windows, num_heads, x.shape[1], x.shape[1]) + mask[:, None]
        attn = attn.reshape(-1, num_heads, x.shape[1], x.shape[1])
    attn = F.dropout(attn.softmax(-1), p=attention_dropout, training=training)
    x = (attn @ v).transpose(1, 2).reshape(x.shape[0], x.shape[1], inner)
    x = F.dropout(F.linear(x, proj_weight, proj_bias), p=dropout, training=training)
    x = _merge_windows(x, batch, padded_h, padded_w, window)
    if shifted:
        x = torch.roll(x, shifts=(shift[0], shift[1]), dims=(1, 2))
    return x[:, :h, :w, :].contiguous()


def _shifted_window_forward(module: nn.Module, x: torch.Tensor, **extra) -> torch.Tensor:
    """:func:`window_attention` with a torchvision Swin attention's layers and settings."""
    return window_attention(
        x, *linear_params(module.qkv), *linear_params(module.proj),
        module.get_relative_position_bias(), module.window_size, module.num_heads,
        module.shift_size, module.scale, module.attention_dropout, module.dropout,
        training=module.training, **extra)


class PrunedShiftedWindowAttention(ShiftedWindowAttention):
    """torchvision's ``ShiftedWindowAttention`` computing with its layers' current
    widths; ``scale`` is the full model's (set when pruning starts)."""

    scale: float

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _shifted_window_forward(self, x)


class PrunedShiftedWindowAttentionV2(ShiftedWindowAttentionV2):
    """The same for Swin V2's cosine attention (no scale: its logits are cosines)."""

    scale: float

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _shifted_window_forward(self, x, logit_scale=self.logit_scale)


class PrunedWindowMSA(WindowMSA):
    """mmpretrain's ``WindowMSA`` with head dims of their own: its forward reshapes
    with ``C // num_heads`` and ``C`` (the input width); this one with the widths
    ``qkv`` produces. ``scale`` stays the full model's."""

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        batch, tokens, _ = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.num_heads, -1)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        table = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        attn = attn + table.view(tokens, tokens, -1).permute(2, 0, 1).unsqueeze(0)
        if mask is not None:
            windows = mask.shape[0]
            attn = attn.view(batch // windows, windows, self.num_heads, tokens, tokens) + \
                mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.num_heads, tokens, tokens)
        attn = self.attn_drop(self.softmax(attn))
        x = (attn @ v).transpose(1, 2).reshape(batch, tokens, -1)
        return self.proj_drop(self.proj(x))


class PrunedRelativePositionalMultiHeadAttention(RelativePositionalMultiHeadAttention):
    """torchvision MaxViT's attention with head dims of their own: the original
    reshapes with ``self.head_dim`` and the input width ``D``; this one with the widths
    ``to_qkv`` produces (``scale_factor`` stays the full model's)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, groups, tokens, _ = x.shape
        q, k, v = (t.reshape(batch, groups, tokens, self.n_heads, -1).permute(0, 1, 3, 2, 4)
                   for t in torch.chunk(self.to_qkv(x), 3, dim=-1))
        attn = (q @ (k * self.scale_factor).transpose(-2, -1))
        attn = F.softmax(attn + self.get_relative_positional_bias(), dim=-1)
        out = (attn @ v).permute(0, 1, 3, 2, 4).reshape(batch, groups, tokens, -1)
        return self.merge(out)


__all__ = ['window_attention', 'PrunedShiftedWindowAttention',
           'PrunedShiftedWindowAttentionV2', 'PrunedWindowMSA',
           'PrunedRelativePositionalMultiHeadAttention']
