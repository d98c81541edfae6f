"""``SearchableShuffleNetV2``: the ShuffleNetV2 supernet of SPOS and DetNAS."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import ModuleList, Sequential
from mmengine.model.weight_init import constant_init, normal_init
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from torch.nn.modules.batchnorm import _BatchNorm

from mmrazor.registry import MODELS

from .arch_setting import check_stage_list

LAST_CHANNELS = 1024


def check_arch_setting(arch_setting: Sequence) -> None:
    """Raise ``ValueError`` unless ``arch_setting`` is MMRazor's list of stages."""
    check_stage_list(arch_setting, ('channels', 'num_blocks'))


@MODELS.register_module()
class SearchableShuffleNetV2(BaseBackbone):
    """ShuffleNetV2 whose every block is a searchable op (SPOS, Guo et al. 2020).

    A stem (3x3 conv, stride 2, ``16 * stem_multiplier`` channels), one layer per
    ``arch_setting`` stage of ``num_blocks`` mutables (the first one strided by 2)
    and, with ``with_last_layer``, a 1x1 conv to 1024 channels. Each block is built
    from the stage's ``mutable_cfg`` (e.g. a ``OneShotMutableOP`` over
    ``ShuffleBlock`` / ``ShuffleXception`` candidates) with ``module_kwargs``
    ``in_channels``, ``out_channels`` and ``stride``; the block names
    (``layers.<stage>.<block>``) are the keys of the subnet YAML.

    Args:
        arch_setting (list[list]): ``[[channels, num_blocks, mutable_cfg], ...]``.
        stem_multiplier (int): Multiplies the stem's 16 channels. Defaults to 1.
        widen_factor (float): Multiplies each stage's channels. Defaults to 1.0.
        out_indices (Sequence[int]): Which layers to output: the stages, then the
            last layer. Defaults to (4, ).
        frozen_stages (int): Freeze the stem and this many layers (-1: nothing).
            Defaults to -1.
        with_last_layer (bool): Add the 1x1 conv to 1024 channels. Defaults to True.
        conv_cfg (dict, optional): Conv config of the stem and the last layer.
            Defaults to None (Conv2d).
        norm_cfg (dict): Norm config of the stem and the last layer (candidates
            take their own). Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation config of the stem and the last layer.
            Defaults to ``dict(type='ReLU')``.
        norm_eval (bool): Keep norm layers in eval mode while training. Defaults to
            False.
        with_cp (bool): Gradient checkpointing in every candidate (passed to them
            as ``with_cp=True``). Defaults to False.
        init_cfg (dict | list[dict], optional): Weight init config. Defaults to None.

    Examples:
        >>> mutable_cfg = dict(type='OneShotMutableOP', candidates=dict(
        ...     shuffle_3x3=dict(type='ShuffleBlock', kernel_size=3),
        ...     shuffle_xception=dict(type='ShuffleXception')))
        >>> backbone = SearchableShuffleNetV2(arch_setting=[
        ...     [64, 4, mutable_cfg], [160, 4, mutable_cfg],
        ...     [320, 8, mutable_cfg], [640, 4, mutable_cfg]])
    """

    def __init__(self,
                 arch_setting: List[List],
                 stem_multiplier: int = 1,
                 widen_factor: float = 1.0,
                 out_indices: Sequence[int] = (4, ),
                 frozen_stages: int = -1,
                 with_last_layer: bool = True,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN'),  # noqa: B006
                 act_cfg: Dict = dict(type='ReLU'),  # noqa: B006
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        check_arch_setting(arch_setting)
        num_layers = len(arch_setting) + int(with_last_layer)
        bad = [i for i in out_indices if not 0 <= i < num_layers]
        if bad:
            raise ValueError(f'out_indices {tuple(out_indices)}: {bad} out of range; this '
                             f'backbone has layers 0..{num_layers - 1} '
                             f'({len(arch_setting)} stages'
                             f'{" + the last layer" if with_last_layer else ""})')
        if not -1 <= frozen_stages < num_layers:
            raise ValueError(f'frozen_stages must be in [-1, {num_layers - 1}], got '
                             f'{frozen_stages}')
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

        channels = 16 * stem_multiplier
        self.conv1 = ConvModule(3, channels, 3, stride=2, padding=1, conv_cfg=conv_cfg,
                                norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.layers = ModuleList()
        for stage_channels, num_blocks, mutable_cfg in arch_setting:
            out_channels = round(stage_channels * widen_factor)
            self.layers.append(self._make_layer(channels, out_channels, num_blocks,
                                                mutable_cfg))
            channels = out_channels
        if with_last_layer:
            self.layers.append(ConvModule(channels, LAST_CHANNELS, 1, conv_cfg=conv_cfg,
                                          norm_cfg=norm_cfg, act_cfg=act_cfg))

    def _make_layer(self, in_channels: int, out_channels: int, num_blocks: int,
                    mutable_cfg: Dict) -> Sequential:
        """``num_blocks`` mutables, the first strided by 2."""
        blocks = []
        for index in range(num_blocks):
            cfg = copy.deepcopy(mutable_cfg)
            kwargs = dict(in_channels=in_channels if index == 0 else out_channels,
                          out_channels=out_channels, stride=2 if index == 0 else 1)
            if self.with_cp:
                kwargs['with_cp'] = True
            cfg['module_kwargs'] = dict(cfg.get('module_kwargs') or {}, **kwargs)
            blocks.append(MODELS.build(cfg))
        return Sequential(*blocks)

    def init_weights(self) -> None:
        """SPOS's init (unless a checkpoint is loaded): stem conv N(0, 0.01), other
        convs N(0, 1 / fan-in channels), norms weight 1 and bias 1e-4."""
        super().init_weights()
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            return
        for name, module in self.named_modules():
            if isinstance(module, nn.Conv2d):
                std = 0.01 if name.startswith('conv1.') else 1.0 / module.weight.shape[1]
                normal_init(module, mean=0, std=std)
            elif isinstance(module, (_BatchNorm, nn.GroupNorm)):
                constant_init(module, val=1, bias=0.0001)
                if isinstance(module, _BatchNorm) and module.running_mean is not None:
                    nn.init.zeros_(module.running_mean)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.conv1(x)
        outs = []
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        for module in [self.conv1, *self.layers[:self.frozen_stages]]:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'SearchableShuffleNetV2':
        """Set the mode, keeping frozen layers (and, with ``norm_eval``, norms) in
        eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
