"""``SearchableMobileNetV2``: the MobileNetV2-style supernet of SPOS."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import Sequential
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.models.utils import make_divisible
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.checkpoint import checkpoint

from mmrazor.registry import MODELS

from .arch_setting import check_stage_list


def check_arch_setting(arch_setting: Sequence) -> None:
    """Raise ``ValueError`` unless ``arch_setting`` is MMRazor's list of stages."""
    check_stage_list(arch_setting, ('channels', 'num_blocks', 'stride'))


@MODELS.register_module()
class SearchableMobileNetV2(BaseBackbone):
    """MobileNetV2 whose every block is a searchable op (SPOS's MobileNet space).

    A stem (3x3 conv, stride 2, ``first_channels`` channels), one layer
    ``layer<i>`` per ``arch_setting`` stage of ``num_blocks`` mutables (the first one
    with the stage's stride) and a last 1x1 conv ``conv2`` to ``last_channels``.
    Channels are scaled by ``widen_factor`` and made divisible by 8. Each block is
    built from the stage's ``mutable_cfg`` (e.g. a ``OneShotMutableOP`` over
    ``MBBlock`` / ``Identity`` candidates) with ``module_kwargs`` ``in_channels``,
    ``out_channels`` and ``stride``; the block names (``layer<i>.<block>``) are the
    keys of the subnet YAML. Also registered as ``SearchableMobileNet``, the name
    MMRazor 1.x's ``spos_mobilenet_supernet.py`` uses.

    Args:
        arch_setting (list[list]): ``[[channels, num_blocks, stride, mutable_cfg],
            ...]``.
        first_channels (int): Channels of the stem. Defaults to 32.
        last_channels (int): Channels of the last conv (scaled only by a
            ``widen_factor`` above 1). Defaults to 1280.
        widen_factor (float): Multiplies every layer's channels. Defaults to 1.0.
        out_indices (Sequence[int]): Which layers to output: the stages, then the
            last conv. Defaults to (7, ).
        frozen_stages (int): Freeze the stem and this many stages (-1: nothing).
            Defaults to -1.
        conv_cfg (dict, optional): Conv config of the stem and the last conv.
            Defaults to None (Conv2d).
        norm_cfg (dict): Norm config of the stem and the last conv (candidates take
            their own). Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation config of the stem and the last conv. Defaults
            to ``dict(type='ReLU6')``.
        norm_eval (bool): Keep norm layers in eval mode while training. Defaults to
            False.
        with_cp (bool): Gradient checkpointing of each block while training (saves
            memory, costs a second forward). Defaults to False.
        init_cfg (dict | list[dict], optional): Weight init config. Defaults to
            Kaiming for convs, 1 for norm weights.

    Examples:
        >>> mutable_cfg = dict(type='OneShotMutableOP', candidates=dict(
        ...     mb_k3e3=dict(type='MBBlock', kernel_size=3, expand_ratio=3),
        ...     identity=dict(type='Identity')))
        >>> backbone = SearchableMobileNetV2(arch_setting=[
        ...     [16, 1, 1, mutable_cfg], [24, 2, 2, mutable_cfg]], out_indices=(2, ))
    """

    def __init__(
        self,
        arch_setting: List[List],
        first_channels: int = 32,
        last_channels: int = 1280,
        widen_factor: float = 1.,
        out_indices: Sequence[int] = (7, ),
        frozen_stages: int = -1,
        conv_cfg: Optional[Dict] = None,
        norm_cfg: Dict = dict(type='BN'),  # noqa: B006
        act_cfg: Dict = dict(type='ReLU6'),  # noqa: B006
        norm_eval: bool = False,
        with_cp: bool = False,
        init_cfg: Optional[Union[Dict, List[Dict]]] = [  # noqa: B006
            dict(type='Kaiming', layer=['Conv2d']),
            dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
        ]
    ) -> None:
        check_arch_setting(arch_setting)
        num_layers = len(arch_setting) + 1
        bad = [i for i in out_indices if not 0 <= i < num_layers]
        if bad:
            raise ValueError(f'out_indices {tuple(out_indices)}: {bad} out of range; this '
                             f'backbone has layers 0..{num_layers - 1} '
                             f'({len(arch_setting)} stages + the last conv)')
        if not -1 <= frozen_stages <= len(arch_setting):
            raise ValueError(f'frozen_stages must be in [-1, {len(arch_setting)}] (the '
                             f'number of stages), got {frozen_stages}')
        super().__init__(init_cfg)
        self.arch_setting = arch_setting
        self.widen_factor = widen_factor
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.norm_eval = norm_eval
        self.with_cp = with_cp

        conv = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        channels = make_divisible(first_channels * widen_factor, 8)
        self.conv1 = ConvModule(3, channels, 3, stride=2, padding=1, **conv)
        # MMRazor's module names (layer1, ..., conv2): its checkpoints and subnet
        # YAMLs use them
        self.layers: List[str] = []
        for index, (stage_channels, num_blocks, stride, mutable_cfg) in enumerate(
                arch_setting, 1):
            out_channels = make_divisible(stage_channels * widen_factor, 8)
            self.add_module(f'layer{index}', self._make_layer(
                channels, out_channels, num_blocks, stride, mutable_cfg))
            self.layers.append(f'layer{index}')
            channels = out_channels
        self.out_channel = int(last_channels * widen_factor) if widen_factor > 1.0 \
            else last_channels
        self.conv2 = ConvModule(channels, self.out_channel, 1, **conv)
        self.layers.append('conv2')

    @staticmethod
    def _make_layer(in_channels: int, out_channels: int, num_blocks: int, stride: int,
                    mutable_cfg: Dict) -> Sequential:
        """``num_blocks`` mutables, the first with ``stride``."""
        blocks = []
        for index in range(num_blocks):
            cfg = copy.deepcopy(mutable_cfg)
            kwargs = dict(in_channels=in_channels if index == 0 else out_channels,
                          out_channels=out_channels, stride=stride if index == 0 else 1)
            cfg['module_kwargs'] = dict(cfg.get('module_kwargs') or {}, **kwargs)
            blocks.append(MODELS.build(cfg))
        return Sequential(*blocks)

    def _run_layer(self, layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if not (self.with_cp and self.training and x.requires_grad):
            return layer(x)
        for block in layer if isinstance(layer, Sequential) else [layer]:
            x = checkpoint(block, x, use_reentrant=False)
        return x

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.conv1(x)
        outs = []
        for index, name in enumerate(self.layers):
            x = self._run_layer(getattr(self, name), x)
            if index in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        for module in [self.conv1] + [getattr(self, name)
                                      for name in self.layers[:self.frozen_stages]]:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'SearchableMobileNetV2':
        """Set the mode, keeping frozen layers (and, with ``norm_eval``, norms) in
        eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self


# the type name of MMRazor 1.x's configs/_base_/nas_backbones/spos_mobilenet_supernet.py
MODELS.register_module(name='SearchableMobileNet', module=SearchableMobileNetV2)
