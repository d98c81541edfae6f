"""Float modules that fake-quantize their weights: what a conv / linear becomes in a
prepared graph.

A conv followed by a BatchNorm becomes one :class:`QConvBn2d` that quantizes the
*folded* weight (``w * gamma / sqrt(var + eps)``, Jacob et al. 2018), so the
fake-quantized model computes what the deployed int8 model, whose BN is folded into
the conv, computes. The wrapped conv and BN are the architecture's own modules: weights
are shared, not copied, and training updates the architecture.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


def fake_quant_qparams(fake_quant: nn.Module) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(scale, zero_point)`` a fake-quant module applies now, as float / int tensors."""
    return fake_quant.scale.detach().float(), fake_quant.zero_point.detach().round().int()


class _WeightFakeQuantMixin:
    """A module with ``weight_fake_quant`` and an optional fused ReLU."""

    weight_fake_quant: nn.Module
    with_relu: bool

    def _activation(self, out: torch.Tensor) -> torch.Tensor:
        return F.relu(out) if self.with_relu else out

    def folded_weight_bias(self) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """The float weight and bias a deployed (BN-folded) layer uses."""
        raise NotImplementedError

    def weight_to_quantize(self) -> torch.Tensor:
        raise NotImplementedError

    def init_weight_qparams(self) -> None:
        """Observe the weight once, so per-channel qparams have their final shape
        before DDP or an optimizer sees them (LSQ's scale is a parameter)."""
        with torch.no_grad():
            self.weight_fake_quant(self.weight_to_quantize())


class QConv2d(_WeightFakeQuantMixin, nn.Module):
    """``conv`` (shared) with a fake-quantized weight and an optional fused ReLU."""

    def __init__(self, conv: nn.Conv2d, weight_fake_quant: nn.Module,
                 with_relu: bool = False) -> None:
        super().__init__()
        self.conv = conv
        self.weight_fake_quant = weight_fake_quant
        self.with_relu = with_relu

    def weight_to_quantize(self) -> torch.Tensor:
        """The weight the fake-quant sees."""
        return self.conv.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight_fake_quant(self.conv.weight)
        return self._activation(self.conv._conv_forward(x, weight, self.conv.bias))

    def folded_weight_bias(self) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        return self.conv.weight.detach(), _detached(self.conv.bias)


class QConvBn2d(_WeightFakeQuantMixin, nn.Module):
    """``conv`` and ``bn`` (shared) with the BN-folded weight fake-quantized.

    In training BN still normalises with batch statistics and updates its running
    ones; the conv runs on the folded, quantized weight scaled back by the running
    std (the "approximate" QAT folding of torch.ao and TFLite). In eval mode the output
    equals a conv with the folded quantized weight and the folded bias exactly.
    """

    def __init__(self, conv: nn.Conv2d, bn: nn.BatchNorm2d, weight_fake_quant: nn.Module,
                 with_relu: bool = False) -> None:
        super().__init__()
        self.conv = conv
        self.bn = bn
        self.weight_fake_quant = weight_fake_quant
        self.with_relu = with_relu
        # QAT's late epochs: normalise with (and stop updating) the running statistics
        self.freeze_bn = False

    def _scale_factor(self) -> torch.Tensor:
        running_std = torch.sqrt(self.bn.running_var + self.bn.eps)
        gamma = self.bn.weight if self.bn.affine else torch.ones_like(running_std)
        return gamma / running_std

    def _safe_scale_factor(self) -> torch.Tensor:
        # a zero gamma (mmpretrain's zero_init_residual) would divide by zero: those
        # channels are scaled by 1 here; BN's gamma still zeroes them, as folding does
        factor = self._scale_factor()
        return torch.where(factor == 0, torch.ones_like(factor), factor)

    def weight_to_quantize(self) -> torch.Tensor:
        """The weight the fake-quant sees: folded by the (safe) BN factor."""
        shape = [-1] + [1] * (self.conv.weight.dim() - 1)
        return self.conv.weight * self._safe_scale_factor().reshape(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        factor = self._safe_scale_factor()
        weight = self.weight_fake_quant(self.weight_to_quantize())
        out = self.conv._conv_forward(x, weight, None)
        out = out / factor.reshape(1, -1, *([1] * (out.dim() - 2)))
        if self.conv.bias is not None:
            out = out + self.conv.bias.reshape(1, -1, *([1] * (out.dim() - 2)))
        if self.freeze_bn and self.training:
            bn = self.bn
            out = F.batch_norm(out, bn.running_mean, bn.running_var, bn.weight, bn.bias,
                               False, 0.0, bn.eps)
        else:
            out = self.bn(out)
        return self._activation(out)

    def folded_weight_bias(self) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        with torch.no_grad():
            factor = self._scale_factor()
            shape = [-1] + [1] * (self.conv.weight.dim() - 1)
            weight = self.conv.weight * factor.reshape(shape)
            bias = self.conv.bias if self.conv.bias is not None else torch.zeros_like(factor)
            beta = self.bn.bias if self.bn.affine else torch.zeros_like(factor)
            bias = (bias - self.bn.running_mean) * factor + beta
        return weight.detach(), bias.detach()


class QLinear(_WeightFakeQuantMixin, nn.Module):
    """``linear`` (shared) with a fake-quantized weight and an optional fused ReLU."""

    def __init__(self, linear: nn.Linear, weight_fake_quant: nn.Module,
                 with_relu: bool = False) -> None:
        super().__init__()
        self.linear = linear
        self.weight_fake_quant = weight_fake_quant
        self.with_relu = with_relu

    def weight_to_quantize(self) -> torch.Tensor:
        """The weight the fake-quant sees."""
        return self.linear.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight_fake_quant(self.linear.weight)
        return self._activation(F.linear(x, weight, self.linear.bias))

    def folded_weight_bias(self) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        return self.linear.weight.detach(), _detached(self.linear.bias)


QAT_MODULES = (QConv2d, QConvBn2d, QLinear)


def freeze_bn_stats(module: nn.Module) -> None:
    """For ``model.apply``: conv-BN layers use and keep their running statistics."""
    if isinstance(module, QConvBn2d):
        module.freeze_bn = True


def _detached(tensor: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    return None if tensor is None else tensor.detach()


class SharedFakeQuantize(nn.Module):
    """Fake-quantizes with the current qparams of another fake-quant, observing nothing.

    Put after ops that keep values on their input's grid or should stay on it
    (max pooling, ReLU, reshapes, average pooling): the int8 kernels of those ops
    keep the input's scale and zero point, and an ONNX ``DequantizeLinear -> op ->
    QuantizeLinear`` chain lets onnxruntime run them in int8.
    """

    def __init__(self, source: nn.Module) -> None:
        super().__init__()
        # not a child module: its state belongs to the fake-quant it follows
        object.__setattr__(self, 'source', source)

    def __getattr__(self, name: str):
        if name in ('scale', 'zero_point', 'quant_min', 'quant_max', 'dtype', 'qscheme',
                    'ch_axis', 'fake_quant_enabled'):
            return getattr(self.__dict__['source'], name)
        return super().__getattr__(name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not _fake_quant_on(self.source):
            return x
        scale, zero_point = fake_quant_qparams(self.source)
        return torch.fake_quantize_per_tensor_affine(x, scale.reshape(()),
                                                     zero_point.reshape(()),
                                                     self.source.quant_min,
                                                     self.source.quant_max)

    def extra_repr(self) -> str:
        return f'shares qparams with {type(self.source).__name__}'


def _fake_quant_on(fake_quant: nn.Module) -> bool:
    enabled = getattr(fake_quant, 'fake_quant_enabled', None)
    return enabled is None or bool(enabled[0])
