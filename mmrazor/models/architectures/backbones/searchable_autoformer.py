"""``AutoformerBackbone``: the searchable vision transformer of AutoFormer
(Chen et al., ICCV 2021)."""
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmpretrain.models.backbones.base_backbone import BaseBackbone

from mmrazor.models.architectures.dynamic_ops import (
    DynamicLinear,
    DynamicMultiheadAttention,
    DynamicPatchEmbed,
    DynamicSequential,
)
from mmrazor.registry import MODELS

from .searchable_mobilenet_v3 import _layer_class, _register

ARCH_KEYS = ('mlp_ratios', 'num_heads', 'depth', 'embed_dims')
HEAD_DIMS = 64  # MMRazor's fixed dims of one attention head


class TransformerEncoderLayer(BaseBackbone):
    """One Autoformer block: pre-norm attention and MLP, each with a shortcut.

    Built at its largest size; ``register_mutables`` lets the backbone's mutables
    choose the heads, the MLP ratio and the embedding dims.

    Args:
        embed_dims (int): Embedding dims.
        num_heads (int): Attention heads.
        mlp_ratio (float): Hidden dims of the MLP / ``embed_dims``.
        proj_drop_rate (float): Dropout after the attention projection. Defaults to 0.
        attn_drop_rate (float): Dropout of the attention weights. Defaults to 0.
        out_drop_rate (float): Drop-path rate of the attention output. Defaults to 0.
        qkv_bias (bool): Biases of q, k, v. Defaults to True.
        act_cfg (dict): The MLP's activation. Defaults to ``dict(type='GELU')``.
        norm_cfg (dict): The norms. Defaults to
            ``dict(type='mmrazor.DynamicLayerNorm')``.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 mlp_ratio: float,
                 proj_drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 out_drop_rate: float = 0.,
                 qkv_bias: bool = True,
                 act_cfg: Dict = dict(type='GELU'),  # noqa: B006
                 norm_cfg: Dict = dict(type='mmrazor.DynamicLayerNorm'),  # noqa: B006
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        self.norm1_name, norm1 = build_norm_layer(_layer_class(norm_cfg), embed_dims,
                                                  postfix=1)
        self.add_module(self.norm1_name, norm1)
        self.attn = DynamicMultiheadAttention(
            embed_dims, num_heads, attn_drop_rate=attn_drop_rate,
            proj_drop_rate=proj_drop_rate, out_drop_rate=out_drop_rate, qkv_bias=qkv_bias,
            head_dims=HEAD_DIMS)
        self.norm2_name, norm2 = build_norm_layer(_layer_class(norm_cfg), embed_dims,
                                                  postfix=2)
        self.add_module(self.norm2_name, norm2)
        middle_channels = int(embed_dims * mlp_ratio)
        self.fc1 = DynamicLinear(embed_dims, middle_channels)
        self.fc2 = DynamicLinear(middle_channels, embed_dims)
        self.act = build_activation_layer(act_cfg)

    @property
    def norm1(self) -> nn.Module:
        """The norm before the attention."""
        return getattr(self, self.norm1_name)

    @property
    def norm2(self) -> nn.Module:
        """The norm before the MLP."""
        return getattr(self, self.norm2_name)

    def register_mutables(self, mutable_num_heads: nn.Module, mutable_mlp_ratios: nn.Module,
                          mutable_q_embed_dims: nn.Module, mutable_head_dims: nn.Module,
                          mutable_embed_dims: nn.Module) -> None:
        """Let the mutables decide the block's layers.

        The block keeps them as attributes under MMRazor's names (the keys of its
        subnet YAMLs): ``mutable_mlp_ratios``, ``mutable_q_embed_dims`` (heads x head
        dims) and ``middle_channels`` (MLP ratio x embedding dims).
        """
        self.mutable_num_heads = mutable_num_heads
        self.mutable_mlp_ratios = mutable_mlp_ratios
        self.mutable_q_embed_dims = mutable_q_embed_dims
        self.mutable_embed_dims = mutable_embed_dims
        self.mutable_head_dims = mutable_head_dims
        self.middle_channels = mutable_mlp_ratios * mutable_embed_dims
        self.attn.register_mutable_attr('num_heads', mutable_num_heads)
        self.attn.register_mutable_attr('embed_dims', mutable_embed_dims)
        self.attn.register_mutable_attr('q_embed_dims', mutable_q_embed_dims)
        if self.attn.relative_position:
            _register(self.attn.rel_pos_embed_k, mutable_head_dims, output=True)
            _register(self.attn.rel_pos_embed_v, mutable_head_dims, output=True)
        for norm in (self.norm1, self.norm2):
            _register(norm, mutable_embed_dims, output=True)
        _register(self.fc1, mutable_embed_dims, output=False)
        _register(self.fc1, self.middle_channels, output=True)
        _register(self.fc2, self.middle_channels, output=False)
        _register(self.fc2, mutable_embed_dims, output=True)

    def train(self, mode: bool = True) -> 'TransformerEncoderLayer':
        # mmpretrain's BaseBackbone.train returns None; torch's (and eval()) self
        super().train(mode)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(self.act(self.fc1(self.norm2(x))))


@MODELS.register_module()
class AutoformerBackbone(BaseBackbone):
    """The AutoFormer supernet: a ViT whose depth, embedding dims and, per block,
    heads and MLP ratio are searched.

    ``arch_setting`` lists the candidates of each: ``mlp_ratios``, ``num_heads``,
    ``depth`` and ``embed_dims``. The supernet is built at the largest; mutables with
    MMRazor's names choose the subnet and are the keys of subnet YAMLs:
    ``backbone.mutable_depth``, ``backbone.mutable_embed_dims``,
    ``backbone.base_embed_dims`` (the head dims, 64),
    ``backbone.blocks.<i>.attn.mutable_attrs.num_heads`` and
    ``backbone.blocks.<i>.mutable_mlp_ratios``. The output is the mean of the patch
    tokens, ``last_mutable`` (the embedding dims) the width a head follows.

    Args:
        arch_setting (dict): The search space (see above).
        img_size (int): Input image size. Defaults to 224.
        patch_size (int): Patch size. Defaults to 16.
        in_channels (int): Input channels. Defaults to 3.
        drop_rate (float): Dropout after the position embedding and the attention
            projections. Defaults to 0.
        drop_path_rate (float): Stochastic depth rate of the last block (linear from
            0). Defaults to 0.
        qkv_bias (bool): Biases of q, k, v. Defaults to True.
        norm_cfg (dict): The norms of the blocks and the final norm. Defaults to
            ``dict(type='mmrazor.DynamicLayerNorm')``.
        act_cfg (dict): The MLPs' activation. Defaults to ``dict(type='GELU')``.
        use_final_norm (bool): A norm after the last block. Defaults to True.
        init_cfg (dict, optional): Initialization config. Defaults to None.

    Examples:
        >>> arch_setting = dict(mlp_ratios=[3.0, 3.5, 4.0], num_heads=[8, 9, 10],
        ...                     depth=[14, 15, 16], embed_dims=[528, 576, 624])
        >>> model = AutoformerBackbone(arch_setting=arch_setting)
    """

    def __init__(self,
                 arch_setting: Dict[str, List],
                 img_size: int = 224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 qkv_bias: bool = True,
                 norm_cfg: Dict = dict(type='mmrazor.DynamicLayerNorm'),  # noqa: B006
                 act_cfg: Dict = dict(type='GELU'),  # noqa: B006
                 use_final_norm: bool = True,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        self._check_arch_setting(arch_setting)
        if img_size % patch_size:
            raise ValueError(f'img_size ({img_size}) must be a multiple of patch_size '
                             f'({patch_size})')
        self.arch_setting = arch_setting
        self.img_size = img_size
        self.patch_size = patch_size
        self.in_channels = in_channels
        self.drop_rate = drop_rate
        self.qkv_bias = qkv_bias
        self.act_cfg = act_cfg
        self.norm_cfg = norm_cfg
        self.use_final_norm = use_final_norm
        self.mlp_ratio_range = sorted(arch_setting['mlp_ratios'])
        self.num_head_range = sorted(arch_setting['num_heads'])
        self.depth_range = sorted(arch_setting['depth'])
        self.embed_dim_range = sorted(arch_setting['embed_dims'])
        self._build_mutables()
        embed_dims = self.embed_dim_range[-1]
        self.patch_embed = DynamicPatchEmbed(
            img_size=img_size, in_channels=in_channels, embed_dims=embed_dims,
            conv_cfg=dict(kernel_size=patch_size, stride=patch_size))
        self.patch_resolution = [img_size // patch_size, img_size // patch_size]
        num_patches = self.patch_resolution[0] * self.patch_resolution[1]
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dims))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.drop_after_pos = nn.Dropout(p=drop_rate)
        self.dpr = np.linspace(0, drop_path_rate, self.depth_range[-1])
        self.blocks = self._make_layer(embed_dims, self.depth_range[-1])
        if use_final_norm:
            self.norm1_name, norm1 = build_norm_layer(_layer_class(norm_cfg), embed_dims)
            self.add_module(self.norm1_name, norm1)
        self.last_mutable = self.mutable_embed_dims
        self.register_mutables()

    @staticmethod
    def _check_arch_setting(arch_setting: Dict[str, List]) -> None:
        missing = [key for key in ARCH_KEYS if key not in arch_setting]
        if missing:
            raise KeyError(f'arch_setting misses {missing}; it needs lists of candidates '
                           f'for {list(ARCH_KEYS)}')
        unknown = [key for key in arch_setting if key not in ARCH_KEYS]
        if unknown:
            raise KeyError(f'arch_setting has unknown keys {unknown}; valid: '
                           f'{list(ARCH_KEYS)}')
        for key in ('num_heads', 'depth', 'embed_dims'):
            values = arch_setting[key]
            if not values or not all(isinstance(v, int) and v > 0 for v in values):
                raise ValueError(f'arch_setting[{key!r}] must be a non-empty list of '
                                 f'positive ints, got {values!r}')
        ratios = arch_setting['mlp_ratios']
        if not ratios or not all(isinstance(r, (int, float)) and r > 0 for r in ratios):
            raise ValueError(f"arch_setting['mlp_ratios'] must be a non-empty list of "
                             f'positive numbers, got {ratios!r}')

    def _build_mutables(self) -> None:
        # imported here: mmrazor.models.mutables imports the architectures
        from mmrazor.models.mutables import OneShotMutableChannel, OneShotMutableValue
        self.mutable_depth = OneShotMutableValue(self.depth_range)
        self.mutable_embed_dims = OneShotMutableChannel(self.embed_dim_range[-1],
                                                        self.embed_dim_range)
        self.base_embed_dims = OneShotMutableChannel(HEAD_DIMS, [HEAD_DIMS])
        # plain lists: the blocks hold these, under their names in subnet YAMLs
        self.mutable_num_heads = [OneShotMutableValue(self.num_head_range)
                                  for _ in range(self.depth_range[-1])]
        self.mutable_mlp_ratios = [OneShotMutableValue(self.mlp_ratio_range)
                                   for _ in range(self.depth_range[-1])]
        self.mutable_q_embed_dims = [heads * self.base_embed_dims
                                     for heads in self.mutable_num_heads]

    def _make_layer(self, embed_dims: int, depth: int) -> DynamicSequential:
        return DynamicSequential(*[
            TransformerEncoderLayer(
                embed_dims, self.num_head_range[-1], self.mlp_ratio_range[-1],
                proj_drop_rate=self.drop_rate, out_drop_rate=float(self.dpr[i]),
                qkv_bias=self.qkv_bias, act_cfg=self.act_cfg, norm_cfg=self.norm_cfg)
            for i in range(depth)])

    @property
    def norm1(self) -> nn.Module:
        """The final norm."""
        return getattr(self, self.norm1_name)

    def register_mutables(self) -> None:
        """Let the mutables decide the patch embedding, the blocks and the norm."""
        self.blocks.register_mutable_attr('depth', self.mutable_depth)
        self.patch_embed.register_mutable_attr('embed_dims', self.mutable_embed_dims)
        for i, block in enumerate(self.blocks):
            block.register_mutables(
                mutable_num_heads=self.mutable_num_heads[i],
                mutable_mlp_ratios=self.mutable_mlp_ratios[i],
                mutable_q_embed_dims=self.mutable_q_embed_dims[i],
                mutable_head_dims=self.base_embed_dims,
                mutable_embed_dims=self.last_mutable)
        if self.use_final_norm:
            _register(self.norm1, self.last_mutable, output=True)

    def _embed_mask(self) -> Optional[torch.Tensor]:
        mask = self.mutable_embed_dims.current_mask.to(self.pos_embed.device)
        return None if bool(mask.all()) else mask

    def _tokens(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """The (cls token, position embedding) of the embedding dims kept now."""
        mask = self._embed_mask()
        if mask is None:
            return self.cls_token, self.pos_embed
        return self.cls_token[..., mask], self.pos_embed[..., mask]

    def active_parameters(self) -> Dict[str, torch.Tensor]:
        """The backbone's own parameters at the current embedding dims (the
        estimator counts these)."""
        cls_token, pos_embed = self._tokens()
        return {'cls_token': cls_token, 'pos_embed': pos_embed}

    def train(self, mode: bool = True) -> 'AutoformerBackbone':
        # mmpretrain's BaseBackbone.train returns None; torch's (and eval()) self
        super().train(mode)
        return self

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        x = self.patch_embed(x)
        cls_token, pos_embed = self._tokens()
        x = torch.cat((cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        x = self.drop_after_pos(x + pos_embed)
        x = self.blocks(x)
        if self.use_final_norm:
            x = self.norm1(x)
        return (torch.mean(x[:, 1:], dim=1), )
