"""Dynamic normalization layers: batch norms (1d/2d/3d, mmengine's ``_BatchNormXd``,
SyncBatchNorm), ``LayerNorm``, ``GroupNorm`` and the slimmable ``SwitchableBatchNorm2d``."""
from typing import Dict, List, Optional, Tuple, Type

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model.utils import _BatchNormXd
from torch.nn.modules.batchnorm import _BatchNorm

from mmrazor.registry import MODELS

from ..mixins.dynamic_mixins import DynamicChannelMixin, share_state, sliced


class DynamicBatchNormMixin(DynamicChannelMixin):
    """The features of a batch norm (its input and output channels are one set).

    Running statistics of the kept channels are updated in place in training, as
    the static layer would update them.
    """

    accepted_mutable_attrs = {'num_features'}
    attr_mappings = {'in_channels': 'num_features', 'out_channels': 'num_features'}

    @property
    def channel_sizes(self) -> Tuple[int, int]:
        return self.num_features, self.num_features

    def active_parameters(self) -> Dict[str, torch.Tensor]:
        mask = self.out_mask()
        return {name: sliced(param, mask)
                for name, param in self.named_parameters(recurse=False)}

    def _momentum_factor(self) -> float:
        """torch's exponential average factor (and the step of ``num_batches_tracked``)."""
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        return factor

    def _use_batch_stats(self) -> bool:
        return self.training or (self.running_mean is None and self.running_var is None)

    def _normalize(self, x: torch.Tensor, mean: Optional[torch.Tensor],
                   var: Optional[torch.Tensor], weight: Optional[torch.Tensor],
                   bias: Optional[torch.Tensor], factor: float) -> torch.Tensor:
        return F.batch_norm(x, mean, var, weight, bias, self._use_batch_stats(), factor,
                            self.eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input_dim(x)
        factor = self._momentum_factor()
        mask = self.out_mask()
        track = not self.training or self.track_running_stats
        mean = sliced(self.running_mean, mask) if track else None
        var = sliced(self.running_var, mask) if track else None
        out = self._normalize(x, mean, var, sliced(self.weight, mask),
                              sliced(self.bias, mask), factor)
        if mask is not None and self.training and mean is not None:
            with torch.no_grad():  # slices are copies: write their update back
                self.running_mean[mask] = mean
                self.running_var[mask] = var
        return out

    @classmethod
    def convert_from(cls, module: _BatchNorm) -> 'DynamicBatchNormMixin':
        new = cls(module.num_features, eps=module.eps, momentum=module.momentum,
                  affine=module.affine, track_running_stats=module.track_running_stats,
                  device='meta')
        share_state(module, new)
        return new

    def _new_static(self, num_features: int) -> nn.Module:
        return self.static_op_factory(num_features, eps=self.eps, momentum=self.momentum,
                                      affine=self.affine,
                                      track_running_stats=self.track_running_stats)

    def to_static_op(self) -> nn.Module:
        self.check_if_mutables_fixed()
        mask = self.out_mask()
        num = self.num_features if mask is None else int(mask.sum())
        static = self._new_static(num).to(self._device())
        with torch.no_grad():
            for name, tensor in list(self.named_parameters(recurse=False)) + \
                    list(self.named_buffers(recurse=False)):
                value = tensor if name == 'num_batches_tracked' else sliced(tensor, mask)
                getattr(static, name).copy_(value.detach())
        return static.train(self.training)


class _DynamicBatchNorm(DynamicBatchNormMixin):
    """Shared constructor and forward of the dynamic batch norms below."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mutable_attrs: nn.ModuleDict = nn.ModuleDict()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return DynamicBatchNormMixin.forward(self, x)


@MODELS.register_module()
class DynamicBatchNorm1d(_DynamicBatchNorm, nn.BatchNorm1d):
    """An ``nn.BatchNorm1d`` over the kept features."""

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return nn.BatchNorm1d


@MODELS.register_module()
class DynamicBatchNorm2d(_DynamicBatchNorm, nn.BatchNorm2d):
    """An ``nn.BatchNorm2d`` over the kept channels."""

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return nn.BatchNorm2d


@MODELS.register_module()
class DynamicBatchNorm3d(_DynamicBatchNorm, nn.BatchNorm3d):
    """An ``nn.BatchNorm3d`` over the kept channels."""

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return nn.BatchNorm3d


class DynamicBatchNormXd(_DynamicBatchNorm, _BatchNormXd):
    """mmengine's ``_BatchNormXd`` (any input rank) over the kept channels."""

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return _BatchNormXd


class DynamicSyncBatchNorm(nn.SyncBatchNorm, DynamicBatchNormMixin):
    """An ``nn.SyncBatchNorm`` over the kept channels.

    In distributed training the batch statistics are synchronized across processes;
    otherwise (one process, or eval) it computes a plain batch norm, as torch does.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mutable_attrs: nn.ModuleDict = nn.ModuleDict()

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return nn.SyncBatchNorm

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f'expected at least 2D input (got {x.dim()}D input)')

    def _normalize(self, x, mean, var, weight, bias, factor) -> torch.Tensor:
        synced = (self.training and dist.is_available() and dist.is_initialized()
                  and dist.get_world_size(self.process_group or dist.group.WORLD) > 1)
        if not synced:
            return super()._normalize(x, mean, var, weight, bias, factor)
        from torch.nn.modules._functions import SyncBatchNorm as SyncFn
        group = self.process_group or dist.group.WORLD
        return SyncFn.apply(x, weight, bias, mean, var, self.eps, factor, group,
                            dist.get_world_size(group))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return DynamicBatchNormMixin.forward(self, x)

    @classmethod
    def convert_from(cls, module: nn.SyncBatchNorm) -> 'DynamicSyncBatchNorm':
        new = super().convert_from(module)
        new.process_group = module.process_group
        return new

    def _new_static(self, num_features: int) -> nn.Module:
        static = super()._new_static(num_features)
        static.process_group = self.process_group
        return static


class SwitchableBatchNorm2d(DynamicBatchNorm2d):
    """Slimmable networks' batch norm: one ``BatchNorm2d`` per candidate width.

    A network trained at several widths needs separate statistics per width;
    ``init_candidates`` makes one BN per candidate (initialized from the first
    channels of this one) and the forward uses the one of the current width.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.candidate_bn = nn.ModuleDict()

    def init_candidates(self, candidates: List[int]) -> None:
        """Make one BN for each candidate number of channels."""
        for num in sorted(set(candidates)):
            if not 1 <= num <= self.num_features:
                raise ValueError(f'candidate width {num} is not in [1, {self.num_features}]')
            bn = nn.BatchNorm2d(num, eps=self.eps, momentum=self.momentum,
                                affine=self.affine,
                                track_running_stats=self.track_running_stats)
            bn = bn.to(self._device())
            with torch.no_grad():
                for name, tensor in bn.named_parameters(recurse=False):
                    tensor.copy_(getattr(self, name)[:num])
                for name, tensor in bn.named_buffers(recurse=False):
                    source = getattr(self, name)
                    tensor.copy_(source if name == 'num_batches_tracked' else source[:num])
            self.candidate_bn[str(num)] = bn

    def _current_bn(self) -> nn.BatchNorm2d:
        mask = self.out_mask()
        num = self.num_features if mask is None else int(mask.sum())
        if str(num) not in self.candidate_bn:
            raise ValueError(f'SwitchableBatchNorm2d has no BN for {num} channels; '
                             f'candidates: {sorted(int(k) for k in self.candidate_bn)}')
        if mask is not None and not bool(mask[:num].all()):
            raise ValueError('SwitchableBatchNorm2d needs the first channels kept '
                             '(a sequential mask)')
        return self.candidate_bn[str(num)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not len(self.candidate_bn):
            return super().forward(x)
        return self._current_bn()(x)

    def active_parameters(self) -> Dict[str, torch.Tensor]:
        if not len(self.candidate_bn):
            return super().active_parameters()
        return dict(self._current_bn().named_parameters())

    def to_static_op(self) -> nn.Module:
        if not len(self.candidate_bn):
            return super().to_static_op()
        self.check_if_mutables_fixed()
        bn = self._current_bn()
        static = nn.BatchNorm2d(bn.num_features, eps=bn.eps, momentum=bn.momentum,
                                affine=bn.affine, track_running_stats=bn.track_running_stats)
        static.load_state_dict(bn.state_dict())
        return static.to(self._device()).train(self.training)


@MODELS.register_module()
class DynamicLayerNorm(nn.LayerNorm, DynamicChannelMixin):
    """An ``nn.LayerNorm`` over the last dimension, narrowed to the kept features.

    Only layer norms over one (the channel) dimension can be narrowed.
    """

    accepted_mutable_attrs = {'num_features'}
    attr_mappings = {'in_channels': 'num_features', 'out_channels': 'num_features'}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mutable_attrs: nn.ModuleDict = nn.ModuleDict()

    @property
    def channel_sizes(self) -> Tuple[int, int]:
        return self.normalized_shape[-1], self.normalized_shape[-1]

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return nn.LayerNorm

    @classmethod
    def is_convertible(cls, module: nn.Module) -> bool:
        return len(module.normalized_shape) == 1

    @classmethod
    def convert_from(cls, module: nn.LayerNorm) -> 'DynamicLayerNorm':
        if not cls.is_convertible(module):
            raise ValueError('only a LayerNorm over one dimension can be made dynamic; '
                             f'this one normalizes {tuple(module.normalized_shape)}')
        new = cls(module.normalized_shape, eps=module.eps,
                  elementwise_affine=module.elementwise_affine,
                  bias=getattr(module, 'bias', None) is not None, device='meta')
        share_state(module, new)
        return new

    def active_parameters(self) -> Dict[str, torch.Tensor]:
        mask = self.out_mask()
        return {name: sliced(param, mask)
                for name, param in self.named_parameters(recurse=False)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = self.out_mask()
        num = self.normalized_shape[0] if mask is None else int(mask.sum())
        return F.layer_norm(x, (num, ), sliced(self.weight, mask), sliced(self.bias, mask),
                            self.eps)

    def to_static_op(self) -> nn.Module:
        self.check_if_mutables_fixed()
        params = self.active_parameters()
        num = self.normalized_shape[0] if self.out_mask() is None \
            else int(self.out_mask().sum())
        static = nn.LayerNorm(num, eps=self.eps, elementwise_affine=self.elementwise_affine,
                              bias='bias' in params).to(self._device())
        with torch.no_grad():
            for name, value in params.items():
                getattr(static, name).copy_(value.detach())
        return static.train(self.training)


class DynamicGroupNorm(nn.GroupNorm, DynamicChannelMixin):
    """An ``nn.GroupNorm`` over the kept channels, with its channels per group kept.

    The kept channels, in order, form groups of the original ``channels_per_group``,
    so the number of kept channels must be a multiple of it (units round their widths
    to it); ``to_static_op`` gives ``GroupNorm(kept // channels_per_group, kept)``.
    """

    accepted_mutable_attrs = {'num_channels'}
    attr_mappings = {'in_channels': 'num_channels', 'out_channels': 'num_channels'}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mutable_attrs: nn.ModuleDict = nn.ModuleDict()

    @property
    def channel_sizes(self) -> Tuple[int, int]:
        return self.num_channels, self.num_channels

    @property
    def channels_per_group(self) -> int:
        """Channels in each group, kept when channels are pruned."""
        return self.num_channels // self.num_groups

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return nn.GroupNorm

    @classmethod
    def convert_from(cls, module: nn.GroupNorm) -> 'DynamicGroupNorm':
        new = cls(module.num_groups, module.num_channels, eps=module.eps,
                  affine=module.affine, device='meta')
        share_state(module, new)
        return new

    def active_groups(self) -> Tuple[int, Optional[torch.Tensor]]:
        """(number of groups, mask) of the channels kept now."""
        mask = self.out_mask()
        if mask is None:
            return self.num_groups, None
        kept = int(mask.sum())
        if kept % self.channels_per_group:
            raise ValueError(f'DynamicGroupNorm has {self.channels_per_group} channels per '
                             f'group; {kept} kept channels are not a multiple of it')
        return kept // self.channels_per_group, mask

    def active_parameters(self) -> Dict[str, torch.Tensor]:
        mask = self.active_groups()[1]
        return {name: sliced(param, mask)
                for name, param in self.named_parameters(recurse=False)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        groups, mask = self.active_groups()
        return F.group_norm(x, groups, sliced(self.weight, mask), sliced(self.bias, mask),
                            self.eps)

    def to_static_op(self) -> nn.Module:
        self.check_if_mutables_fixed()
        groups, mask = self.active_groups()
        params = self.active_parameters()
        kept = self.num_channels if mask is None else int(mask.sum())
        static = nn.GroupNorm(groups, kept, eps=self.eps, affine=self.affine)
        static = static.to(self._device())
        with torch.no_grad():
            for name, value in params.items():
                getattr(static, name).copy_(value.detach())
        return static.train(self.training)
