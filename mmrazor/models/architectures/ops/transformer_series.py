"""Autoformer's transformer ops: image relative position encoding (iRPE) and multi-head
attention with it. The static counterparts of ``DynamicRelativePosition2D`` and
``DynamicMultiheadAttention``."""
import math
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks.drop import DropPath
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_


def relative_position_index(num_tokens: int, max_relative_position: int,
                            device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """Vertical and horizontal table indices of every (query, key) token pair.

    The tokens are a class token then a square grid of patches. Index 0 is the class
    token's; patch pairs get their clipped row (column) distance shifted to
    ``[1, 2 * max_relative_position + 1]``.
    """
    num_patches = num_tokens - 1
    side = math.isqrt(num_patches)
    if side * side != num_patches:
        raise ValueError(f'relative position encoding needs a class token and a square '
                         f'grid of patches; {num_tokens} tokens leave {num_patches} patches')
    positions = torch.arange(num_patches, device=device)
    indices = []
    for coordinate in (positions // side, positions % side):
        distance = coordinate[None, :] - coordinate[:, None]
        index = distance.clamp(-max_relative_position, max_relative_position)
        index = index + max_relative_position + 1
        indices.append(F.pad(index, (1, 0, 1, 0), 'constant', 0))
    return indices[0], indices[1]


class RelativePosition2D(nn.Module):
    """Image relative position encoding (iRPE, Wu et al., ICCV 2021).

    Args:
        head_dims (int): Embedding dims of one attention head.
        max_relative_position (int): Distances are clipped to this. Defaults to 14.
    """

    def __init__(self, head_dims: int, max_relative_position: int = 14) -> None:
        super().__init__()
        self.head_dims = head_dims
        self.max_relative_position = max_relative_position
        # row 0 of each table is the class token's embedding
        self.embeddings_table_v = nn.Parameter(
            torch.randn(max_relative_position * 2 + 2, head_dims))
        self.embeddings_table_h = nn.Parameter(
            torch.randn(max_relative_position * 2 + 2, head_dims))
        trunc_normal_(self.embeddings_table_v, std=.02)
        trunc_normal_(self.embeddings_table_h, std=.02)

    def tables(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """The (vertical, horizontal) embedding tables the forward uses."""
        return self.embeddings_table_v, self.embeddings_table_h

    def forward(self, length_q: int, length_k: int) -> torch.Tensor:
        """The ``(length_q, length_k, head_dims)`` embeddings of the token pairs."""
        if length_q != length_k:
            raise ValueError(f'RelativePosition2D encodes self-attention: length_q '
                             f'({length_q}) must equal length_k ({length_k})')
        table_v, table_h = self.tables()
        index_v, index_h = relative_position_index(length_q, self.max_relative_position,
                                                   table_v.device)
        return table_v[index_v] + table_h[index_h]


class MultiheadAttention(BaseModule):
    """Multi-head self-attention with image relative position encoding (Autoformer).

    Args:
        embed_dims (int): The embedding (output) dimension.
        num_heads (int): Parallel attention heads.
        input_dims (int, optional): The input dimension. Defaults to None
            (``embed_dims``).
        attn_drop_rate (float): Dropout rate of the attention weights. Defaults
            to 0.
        proj_drop_rate (float): Dropout rate after the output projection.
            Defaults to 0.
        out_drop_rate (float): Drop-path rate of the output. Defaults to 0.
        relative_position (bool): Add relative position encodings to the keys and
            values. Defaults to True.
        max_relative_position (int): The max relative position distance. Defaults
            to 14.
        qkv_bias (bool): Biases of q, k, v. Defaults to True.
        qk_scale (float, optional): Scale of q @ k. Defaults to None
            (``head_dims ** -0.5``).
        proj_bias (bool): Bias of the output projection. Defaults to True.
        init_cfg (dict, optional): Initialization config. Defaults to None.
        head_dims (int): Dims of one head (MMRazor fixes 64). Defaults to 64.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 input_dims: Optional[int] = None,
                 attn_drop_rate: float = 0.,
                 proj_drop_rate: float = 0.,
                 out_drop_rate: float = 0.,
                 relative_position: bool = True,
                 max_relative_position: int = 14,
                 qkv_bias: bool = True,
                 qk_scale: Optional[float] = None,
                 proj_bias: bool = True,
                 init_cfg: Optional[dict] = None,
                 head_dims: int = 64) -> None:
        super().__init__(init_cfg)
        self.input_dims = input_dims or embed_dims
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.head_dims = head_dims
        self.q_embed_dims = num_heads * head_dims
        self.relative_position = relative_position
        self.max_relative_position = max_relative_position
        self.attn_drop_rate = attn_drop_rate
        self.proj_drop_rate = proj_drop_rate
        self.out_drop_rate = out_drop_rate
        self.qkv_bias = qkv_bias
        self.proj_bias = proj_bias
        self.scale = qk_scale or head_dims**-0.5
        self.w_qs = nn.Linear(self.input_dims, self.q_embed_dims, bias=qkv_bias)
        self.w_ks = nn.Linear(self.input_dims, self.q_embed_dims, bias=qkv_bias)
        self.w_vs = nn.Linear(self.input_dims, self.q_embed_dims, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop_rate)
        self.proj = nn.Linear(self.q_embed_dims, embed_dims, bias=proj_bias)
        self.proj_drop = nn.Dropout(proj_drop_rate)
        self.out_drop = DropPath(out_drop_rate)
        if relative_position:
            self.rel_pos_embed_k = RelativePosition2D(head_dims, max_relative_position)
            self.rel_pos_embed_v = RelativePosition2D(head_dims, max_relative_position)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attend(x, self.num_heads)

    def attend(self, x: torch.Tensor, num_heads: int) -> torch.Tensor:
        """Self-attention of ``x`` (B, N, C) with ``num_heads`` heads."""
        B, N = x.shape[:2]
        q, k, v = (layer(x).view(B, N, num_heads, -1).transpose(1, 2)
                   for layer in (self.w_qs, self.w_ks, self.w_vs))
        attn = (q @ k.transpose(-2, -1)) * self.scale
        if self.relative_position:
            # (N, B * heads, d) @ (N, d, N): each query token with its own encodings
            r_p_k = self.rel_pos_embed_k(N, N)
            q_t = q.permute(2, 0, 1, 3).reshape(N, B * num_heads, -1)
            attn = attn + (q_t @ r_p_k.transpose(2, 1)).transpose(1, 0).reshape(
                B, num_heads, N, N) * self.scale
        attn = self.attn_drop(attn.softmax(dim=-1))
        out = (attn @ v).transpose(1, 2).reshape(B, N, -1)
        if self.relative_position:
            r_p_v = self.rel_pos_embed_v(N, N)
            attn_t = attn.permute(2, 0, 1, 3).reshape(N, B * num_heads, -1)
            out = out + (attn_t @ r_p_v).transpose(1, 0).reshape(
                B, num_heads, N, -1).transpose(2, 1).reshape(B, N, -1)
        return self.out_drop(self.proj_drop(self.proj(out)))
