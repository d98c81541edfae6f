"""``AttentiveMobileNetV3``: the MobileNetV3 supernet of BigNAS/AttentiveNAS and OFA."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import Sequential
from mmengine.model.weight_init import constant_init
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.models.utils import make_divisible
from torch.nn.modules.batchnorm import _BatchNorm

from mmrazor.models.architectures.dynamic_ops import DynamicChannelMixin, DynamicSequential
from mmrazor.models.architectures.ops.mobilenet_series import MBBlock
from mmrazor.registry import MODELS

# mutables are nn.Modules here: mmrazor.models.mutables imports this package, so it is
# imported when the supernet is built
BaseMutable = nn.Module

ARCH_KEYS = ('kernel_size', 'num_blocks', 'expand_ratio', 'num_out_channels')


def parse_values(ranges: List[List[int]]) -> List[List[int]]:
    """``[[min, max, step], ...]`` -> ``[[min, min + step, ..., max], ...]``."""
    values = []
    for item in ranges:
        if not (isinstance(item, (list, tuple)) and len(item) == 3
                and all(isinstance(v, int) for v in item) and item[2] > 0
                and item[0] <= item[1]):
            raise ValueError(f'arch_setting ranges are [min, max, step] ints with '
                             f'min <= max and step > 0, got {item!r}')
        values.append(list(range(item[0], item[1] + 1, item[2])))
    return values


def _layer_class(cfg: Optional[Dict]) -> Optional[Dict]:
    """``cfg`` with its type resolved in mmrazor's registry (and its parents), so
    mmcv's builders find mmrazor's dynamic ops whatever the default scope."""
    if cfg is None:
        return None
    cfg = dict(cfg)
    if isinstance(cfg.get('type'), str):
        cls = MODELS.get(cfg['type'])
        if cls is None:
            raise KeyError(f'{cfg["type"]!r} is not a registered layer type')
        cfg['type'] = cls
    return cfg


def _register(module: nn.Module, mutable: BaseMutable, output: bool) -> None:
    """Let ``mutable`` decide a dynamic op's output (or input) channels."""
    if not isinstance(module, DynamicChannelMixin):
        return  # a static layer: the supernet was built without dynamic ops
    from mmrazor.models.mutables import MutableChannelContainer
    side = 'out_channels' if output else 'in_channels'
    if module.get_mutable_attr(side) is None:
        size = module.channel_sizes[1 if output else 0]
        module.register_mutable_attr(side, MutableChannelContainer(size))
    MutableChannelContainer.register_mutable_channel_to_module(module, mutable, output)


def _mutate_conv_module(conv_module: ConvModule, in_mutable: Optional[BaseMutable],
                        out_mutable: BaseMutable) -> None:
    if in_mutable is not None:
        _register(conv_module.conv, in_mutable, output=False)
    _register(conv_module.conv, out_mutable, output=True)
    if conv_module.with_norm:
        _register(conv_module.norm, out_mutable, output=True)


def _squeeze_mutable(mid: BaseMutable, channels: int, ratio: int,
                     divisor: int) -> BaseMutable:
    """The squeeze-excitation width of ``mid`` hidden channels: the first
    ``make_divisible(mid / ratio, divisor)`` of the ``channels`` built."""
    from mmrazor.models.mutables import DerivedMutable

    def choice_fn() -> int:
        return min(make_divisible(int(mid.current_mask.sum()) / ratio, divisor), channels)

    def mask_fn() -> torch.Tensor:
        mask = torch.zeros(channels, dtype=torch.bool)
        mask[:choice_fn()] = True
        return mask

    return DerivedMutable(choice_fn, mask_fn)


@MODELS.register_module()
class AttentiveMobileNetV3(BaseBackbone):
    """The searchable MobileNetV3 of BigNAS / AttentiveNAS (and OFA).

    A stem conv, one ``DynamicSequential`` of ``MBBlock``s per stage and a last
    layer (1x1 expansion, pooling, 1x1 feature mix). The search space is
    ``arch_setting``: per stage ``[min, max, step]`` ranges of ``kernel_size``,
    ``num_blocks`` and ``expand_ratio`` (plus one last ``expand_ratio`` for the last
    layer) and of ``num_out_channels`` (the stem first, the last layer last). The
    supernet is built at the largest values; mutables with MMRazor's aliases
    (``backbone.first_channels``, ``backbone.layers.<i>.{kernel_size,
    expand_ratio, depth, out_channels}``, ``backbone.last_channels``) choose the
    subnet, and are the keys of subnet YAMLs.

    Args:
        arch_setting (dict): The search space (see above).
        widen_factor (float): Multiplies every channel range (rounded to 8).
            Defaults to 1.0.
        out_indices (Sequence[int]): Outputs among the stages and the last layer
            (``len(stages)`` is the last layer). Defaults to (7, ).
        frozen_stages (int): Freeze the stem and this many stages. Defaults to -1.
        conv_cfg (dict): Conv config. Defaults to ``dict(type='BigNasConv2d')``.
        norm_cfg (dict): Norm config. Defaults to
            ``dict(type='DynamicBatchNorm2d')``.
        act_cfg_list (list[str], optional): Activation types of the stem, each stage
            and (the last entry) the last layer; entries beyond those are unused, as
            in MMRazor. Defaults to None (``'Swish'`` everywhere).
        stride_list (list[int], optional): Stride of each stage. Defaults to None
            (``[1, 2, 2, 2, 1, 2, 1]``).
        with_se_list (list[bool], optional): Squeeze-excitation per stage. Defaults
            to None (``[False, False, True, False, True, True, True]``).
        norm_eval (bool): Keep batch norms in eval mode in training. Defaults to
            False.
        with_cp (bool): Unused, kept for MMRazor's signature. Defaults to False.
        zero_init_residual (bool): Zero the last norm of blocks with a shortcut.
            Defaults to True.
        fine_grained_mode (bool): Search kernel size and expand ratio per block
            (aliases ``backbone.layers.<i>.<k>.kernel_size``) instead of per stage.
            Defaults to False.
        with_attentive_shortcut (bool): The first block of a stage gets a pooled
            1x1-conv shortcut (AttentiveNAS). Defaults to True.
        init_cfg (dict, optional): Weight init config. Defaults to None.
    """

    def __init__(self,
                 arch_setting: Dict[str, List],
                 widen_factor: float = 1.,
                 out_indices: Sequence[int] = (7, ),
                 frozen_stages: int = -1,
                 conv_cfg: Dict = dict(type='BigNasConv2d'),  # noqa: B006
                 norm_cfg: Dict = dict(type='DynamicBatchNorm2d'),  # noqa: B006
                 act_cfg_list: Optional[List[str]] = None,
                 stride_list: Optional[List[int]] = None,
                 with_se_list: Optional[List[bool]] = None,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 zero_init_residual: bool = True,
                 fine_grained_mode: bool = False,
                 with_attentive_shortcut: bool = True,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg)
        self._parse_arch_setting(arch_setting, widen_factor)
        num_stages = len(self.kernel_size_list)
        self.stride_list = list(stride_list or [1, 2, 2, 2, 1, 2, 1])
        self.with_se_list = list(with_se_list or [False, False, True, False, True, True, True])
        act_cfg_list = list(act_cfg_list or ['Swish'] * (num_stages + 2))
        for name, values, size in (('stride_list', self.stride_list, num_stages),
                                   ('with_se_list', self.with_se_list, num_stages),
                                   ('act_cfg_list', act_cfg_list, num_stages + 2)):
            if len(values) < size:
                raise ValueError(f'{name} needs {size} entries for the {num_stages} stages '
                                 f'of arch_setting, got {len(values)}: {values}')
        for index in out_indices:
            if index not in range(num_stages + 1):
                raise ValueError(f'out_indices must be in range(0, {num_stages + 1}) (the '
                                 f'stages, then the last layer), got {index}')
        if frozen_stages not in range(-1, num_stages + 1):
            raise ValueError(f'frozen_stages must be in range(-1, {num_stages + 1}), got '
                             f'{frozen_stages}')
        self.arch_setting = arch_setting
        self.widen_factor = widen_factor
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.conv_cfg = _layer_class(conv_cfg)
        self.norm_cfg = _layer_class(norm_cfg)
        self.acts = [dict(type=act) for act in act_cfg_list[:num_stages + 1]] + [
            dict(type=act_cfg_list[-1])]
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.zero_init_residual = zero_init_residual
        self.fine_grained_mode = fine_grained_mode
        self.with_attentive_shortcut = with_attentive_shortcut
        self._make_layers()
        self.register_mutables()

    def _parse_arch_setting(self, arch_setting: Dict[str, List], widen_factor: float) -> None:
        missing = [key for key in ARCH_KEYS if key not in arch_setting]
        if missing:
            raise KeyError(f'arch_setting misses {missing}; it needs {list(ARCH_KEYS)}, '
                           'each a list of [min, max, step]')
        self.kernel_size_list = parse_values(arch_setting['kernel_size'])
        self.num_blocks_list = parse_values(arch_setting['num_blocks'])
        self.expand_ratio_list = parse_values(arch_setting['expand_ratio'])
        channels = [[make_divisible(c * widen_factor, 8) for c in values]
                    for values in parse_values(arch_setting['num_out_channels'])]
        num_stages = len(self.kernel_size_list)
        sizes = dict(num_blocks=len(self.num_blocks_list),
                     expand_ratio=len(self.expand_ratio_list) - 1,
                     num_out_channels=len(channels) - 2)
        wrong = {key: size for key, size in sizes.items() if size != num_stages}
        if wrong:
            raise ValueError(f'arch_setting: kernel_size has {num_stages} stages, so '
                             'num_blocks needs as many entries, expand_ratio one more (the '
                             'last layer) and num_out_channels two more (the stem and the '
                             f'last layer); got stage counts {wrong}')
        self.first_out_channels_list = channels[0]
        self.num_channels_list = channels[1:-1]
        self.last_out_channels_list = channels[-1]
        self.last_expand_ratio_list = self.expand_ratio_list.pop(-1)

    # ---- building -----------------------------------------------------------------

    def _conv(self, in_channels: int, out_channels: int, kernel_size: int, act: Dict,
              stride: int = 1, norm: bool = True, bias: Union[bool, str] = 'auto'
              ) -> ConvModule:
        return ConvModule(in_channels, out_channels, kernel_size, stride, kernel_size // 2,
                          bias=bias, conv_cfg=self.conv_cfg,
                          norm_cfg=self.norm_cfg if norm else None, act_cfg=act)

    @property
    def layers(self) -> List[nn.Module]:
        """The stages (``layer1``, ...) and the last layer, looked up by name: slicing
        a subnet replaces them (a list kept at build time would hold the supernet's)."""
        return [getattr(self, f'layer{i + 1}') for i in range(len(self.num_blocks_list))
                ] + [self.last_conv]

    def _make_layers(self) -> None:
        in_channels = max(self.first_out_channels_list)
        self.first_conv = self._conv(3, in_channels, 3, self.acts[0], stride=2)
        for i, (num_blocks, kernel_sizes, expand_ratios, channels) in enumerate(zip(
                self.num_blocks_list, self.kernel_size_list, self.expand_ratio_list,
                self.num_channels_list)):
            se_cfg = dict(act_cfg=(dict(type='ReLU'), dict(type='HSigmoid')), ratio=4,
                          divisor=8) if self.with_se_list[i] else None
            blocks = []
            for k in range(max(num_blocks)):
                blocks.append(MBBlock(
                    in_channels, max(channels), stride=self.stride_list[i] if k == 0 else 1,
                    kernel_size=max(kernel_sizes), expand_ratio=max(expand_ratios),
                    se_cfg=se_cfg, conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
                    act_cfg=self.acts[i + 1],
                    # the first block's input and output widths are searched apart
                    with_res_shortcut=k > 0,
                    with_attentive_shortcut=self.with_attentive_shortcut and k == 0))
                in_channels = max(channels)
            self.add_module(f'layer{i + 1}', DynamicSequential(*blocks))
        expand_channels = in_channels * max(self.last_expand_ratio_list)
        self.out_channels = max(self.last_out_channels_list)
        self.last_conv = Sequential()
        self.last_conv.add_module('final_expand_layer',
                                  self._conv(in_channels, expand_channels, 1, self.acts[-1]))
        self.last_conv.add_module('pool', nn.AdaptiveAvgPool2d((1, 1)))
        self.last_conv.add_module('feature_mix_layer', self._conv(
            expand_channels, self.out_channels, 1, self.acts[-1], norm=False, bias=False))

    # ---- search space -------------------------------------------------------------

    def register_mutables(self) -> None:
        """Create the mutables and let them decide the dynamic ops."""
        from mmrazor.models.mutables import OneShotMutableChannel, OneShotMutableValue
        self.first_mutable_channels = OneShotMutableChannel(
            max(self.first_out_channels_list), self.first_out_channels_list,
            alias='backbone.first_channels')
        _mutate_conv_module(self.first_conv, None, self.first_mutable_channels)
        in_mutable: BaseMutable = self.first_mutable_channels
        self.stage_mutables = nn.ModuleList()
        for i, layer in enumerate(self.layers[:-1]):
            prefix = f'backbone.layers.{i + 1}.'
            mutables = nn.ModuleDict(dict(
                out_channels=OneShotMutableChannel(
                    max(self.num_channels_list[i]), self.num_channels_list[i],
                    alias=prefix + 'out_channels'),
                depth=OneShotMutableValue(self.num_blocks_list[i], alias=prefix + 'depth')))
            layer.register_mutable_attr('depth', mutables['depth'])
            for k, block in enumerate(layer):
                block_prefix = f'{prefix}{k}.' if self.fine_grained_mode else prefix
                if self.fine_grained_mode or k == 0:
                    kernel = OneShotMutableValue(self.kernel_size_list[i],
                                                 alias=block_prefix + 'kernel_size')
                    expand = OneShotMutableValue(self.expand_ratio_list[i],
                                                 alias=block_prefix + 'expand_ratio')
                    key = f'{k}_' if self.fine_grained_mode else ''
                    mutables[key + 'kernel_size'], mutables[key + 'expand_ratio'] = \
                        kernel, expand
                self._mutate_block(block, in_mutable, mutables['out_channels'], kernel,
                                   expand)
                in_mutable = mutables['out_channels']
            self.stage_mutables.append(mutables)
        self.last_mutable_channels = OneShotMutableChannel(
            self.out_channels, self.last_out_channels_list, alias='backbone.last_channels')
        # a single ratio is no choice (MMRazor's subnet files have no entry for it)
        if len(self.last_expand_ratio_list) > 1:
            self.last_expand_ratio = OneShotMutableValue(self.last_expand_ratio_list,
                                                         alias='backbone.last_expand_ratio')
        else:
            self.last_expand_ratio = self.last_expand_ratio_list[0]
        expand_channels = in_mutable * self.last_expand_ratio
        _mutate_conv_module(self.last_conv.final_expand_layer, in_mutable, expand_channels)
        _mutate_conv_module(self.last_conv.feature_mix_layer, expand_channels,
                            self.last_mutable_channels)

    @staticmethod
    def _mutate_block(block: MBBlock, in_mutable: BaseMutable, out_mutable: BaseMutable,
                      kernel: BaseMutable, expand: BaseMutable) -> None:
        mid = in_mutable * expand
        if block.expand_conv is not None:
            _mutate_conv_module(block.expand_conv, in_mutable, mid)
        _mutate_conv_module(block.depthwise_conv, mid, mid)
        if isinstance(block.depthwise_conv.conv, DynamicChannelMixin):
            block.depthwise_conv.conv.register_mutable_attr('kernel_size', kernel)
        if block.se is not None:
            squeeze = _squeeze_mutable(mid, block.se.conv1.conv.out_channels, 4, 8)
            _mutate_conv_module(block.se.conv1, mid, squeeze)
            _mutate_conv_module(block.se.conv2, squeeze, mid)
        _mutate_conv_module(block.linear_conv, mid, out_mutable)
        if block.shortcut is not None:
            _mutate_conv_module(block.shortcut.conv, in_mutable, out_mutable)

    # ---- running ------------------------------------------------------------------

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.first_conv(x)
        outs = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True) -> 'AttentiveMobileNetV3':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    def init_weights(self) -> None:
        super().init_weights()
        if self.zero_init_residual:
            for module in self.modules():
                if isinstance(module, MBBlock) and (module.with_res_shortcut
                                                    or module.shortcut is not None):
                    constant_init(module.linear_conv.norm, val=0)

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        frozen = [self.first_conv] + self.layers[:self.frozen_stages]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False
