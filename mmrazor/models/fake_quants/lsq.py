"""LearnableFakeQuantize: fake-quant whose scale (and zero point) learn by backprop (LSQ).

Paper: Learned Step Size Quantization, https://arxiv.org/abs/1902.08153. The module
has three modes, switched over a whole model with ``model.apply(...)``:

* static estimate (the default): the observer sets scale and zero point from data;
* parameter learning: scale (and a trainable zero point) get gradients;
* validation: scale and zero point stay fixed.
"""
import math
from typing import Any, Callable, Tuple

import torch
from torch import nn
from torch.ao.quantization.fake_quantize import (
    FakeQuantizeBase,
    _is_per_channel,
    _is_per_tensor,
)
from torch.ao.quantization.observer import MovingAverageMinMaxObserver

from mmrazor.registry import MODELS


@MODELS.register_module()
class LearnableFakeQuantize(FakeQuantizeBase):
    """Fake-quantize with a learnable scale and an optionally learnable zero point.

    It has the API of ``torch.ao.quantization.FakeQuantize`` (``scale``,
    ``zero_point``, ``quant_min``, ``quant_max``, ``dtype``, ``qscheme``, ``ch_axis``,
    ``is_per_channel``, ``activation_post_process``, ``calculate_qparams()``,
    ``enable/disable_fake_quant``, ``enable/disable_observer``) and these buffers:

    * ``fake_quant_enabled``: quantize the output;
    * ``static_enabled``: the observer sets scale and zero point on every forward
      (``observer_enabled`` mirrors it, for code that reads torch's flag);
    * ``learning_enabled``: scale (and a trainable zero point) receive gradients.

    Args:
        observer (Callable): Class (or ``with_args`` factory) of the observer that
            estimates scale and zero point; per-channel observers make this module
            per-channel along their ``ch_axis``. Defaults to
            ``MovingAverageMinMaxObserver``.
        quant_min (int): Smallest quantized value. Defaults to 0.
        quant_max (int): Largest quantized value. Defaults to 255.
        scale (float): Initial scale. Defaults to 1.
        zero_point (float): Initial zero point. Defaults to 0.
        use_grad_scaling (bool): Multiply the gradients of scale and zero point by
            ``1 / sqrt(x.numel() * quant_max)``, as LSQ does to balance them against
            the weights' gradients. Defaults to True.
        zero_point_trainable (bool): Make the zero point an ``nn.Parameter`` rather
            than a buffer. Defaults to False.
        **observer_kwargs: Arguments of the observer (``dtype``, ``qscheme``,
            ``ch_axis``, ...); ``quant_min`` and ``quant_max`` are passed on too.

    Example:
        >>> fq = LearnableFakeQuantize(observer=LSQObserver, quant_min=0, quant_max=255)
        >>> model.apply(enable_static_estimate)  # first batch: scale from data
        >>> model.apply(enable_param_learning)   # then: scale learns
    """

    scale: nn.Parameter
    zero_point: torch.Tensor

    def __init__(self,
                 observer: Callable[..., nn.Module] = MovingAverageMinMaxObserver,
                 quant_min: int = 0,
                 quant_max: int = 255,
                 scale: float = 1.,
                 zero_point: float = 0.,
                 use_grad_scaling: bool = True,
                 zero_point_trainable: bool = False,
                 **observer_kwargs: Any) -> None:
        super().__init__()
        if quant_min >= quant_max:
            raise ValueError(f'quant_min ({quant_min}) must be less than quant_max '
                             f'({quant_max})')
        self.activation_post_process = observer(
            quant_min=quant_min, quant_max=quant_max, **observer_kwargs)
        self.quant_min = quant_min
        self.quant_max = quant_max
        self.dtype = self.activation_post_process.dtype
        self.qscheme = self.activation_post_process.qscheme
        self.ch_axis = getattr(self.activation_post_process, 'ch_axis', -1)
        info = torch.iinfo(self.dtype)
        if quant_min < info.min or quant_max > info.max:
            raise ValueError(f'[quant_min, quant_max] = [{quant_min}, {quant_max}] is out of '
                             f'the range of {self.dtype}: [{info.min}, {info.max}]')
        if not (_is_per_channel(self.qscheme) or _is_per_tensor(self.qscheme)):
            raise ValueError(f'LearnableFakeQuantize supports per-tensor and per-channel '
                             f'qschemes, got {self.qscheme}')
        self.is_per_channel = _is_per_channel(self.qscheme)
        self.use_grad_scaling = use_grad_scaling
        self.zero_point_trainable = zero_point_trainable
        self.bitwidth = int(math.log2(quant_max - quant_min + 1))

        self.scale = nn.Parameter(torch.tensor([float(scale)]))
        if zero_point_trainable:
            self.zero_point = nn.Parameter(torch.tensor([float(zero_point)]))
        else:
            self.register_buffer('zero_point', torch.tensor([float(zero_point)]))
        self.register_buffer('static_enabled', torch.tensor([1], dtype=torch.uint8))
        self.register_buffer('learning_enabled', torch.tensor([0], dtype=torch.uint8))
        self.register_buffer('eps', torch.tensor([torch.finfo(torch.float32).eps]))

    def enable_param_learning(self) -> 'LearnableFakeQuantize':
        """Learn scale (and zero point) by backprop; the observer stops updating."""
        self.toggle_qparam_learning(True).toggle_fake_quant(True)
        return self.toggle_observer_update(False)

    def enable_static_estimate(self) -> 'LearnableFakeQuantize':
        """Let the observer set scale and zero point from data; no learning."""
        self.toggle_qparam_learning(False).toggle_fake_quant(True)
        return self.toggle_observer_update(True)

    def enable_val(self) -> 'LearnableFakeQuantize':
        """Fake-quantize with fixed scale and zero point (neither observed nor learned)."""
        self.toggle_qparam_learning(False).toggle_fake_quant(True)
        return self.toggle_observer_update(False)

    def enable_static_observation(self) -> 'LearnableFakeQuantize':
        """Observe data and set scale from it, but return the input unquantized."""
        self.toggle_qparam_learning(False).toggle_fake_quant(False)
        return self.toggle_observer_update(True)

    def toggle_observer_update(self, enabled: bool = True) -> 'LearnableFakeQuantize':
        """Switch the static estimate of scale and zero point by the observer."""
        self.static_enabled[0] = int(enabled)
        self.observer_enabled[0] = int(enabled)
        return self

    def enable_observer(self, enabled: bool = True) -> None:
        """torch's FakeQuantizeBase API: the same as :meth:`toggle_observer_update`."""
        self.toggle_observer_update(enabled)

    def toggle_qparam_learning(self, enabled: bool = True) -> 'LearnableFakeQuantize':
        """Switch the learning of scale (and of a trainable zero point)."""
        self.learning_enabled[0] = int(enabled)
        self.scale.requires_grad = enabled
        if self.zero_point_trainable:
            self.zero_point.requires_grad = enabled
        return self

    def toggle_fake_quant(self, enabled: bool = True) -> 'LearnableFakeQuantize':
        """Switch the fake quantization of the output."""
        self.fake_quant_enabled[0] = int(enabled)
        return self

    def calculate_qparams(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return ``(scale, zero_point)``: scale at least ``eps``, an integer zero point."""
        self.scale.data.clamp_(min=self.eps.item())
        zero_point = self.zero_point.detach().round().clamp(self.quant_min, self.quant_max)
        return self.scale.detach().clone(), zero_point.long()

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Update scale/zero point as the mode says, then fake-quantize ``X``."""
        if self.static_enabled[0] == 1:
            self.activation_post_process(X.detach())
            scale, zero_point = self.activation_post_process.calculate_qparams()
            # Assigning .data keeps the Parameter (and optimizers' references to it)
            # while per-channel qparams take their real shape.
            self.scale.data = scale.detach().to(self.scale.device, torch.float).clone()
            self.zero_point.data = zero_point.detach().to(self.zero_point.device,
                                                          torch.float).clone()
        else:
            self.scale.data.clamp_(min=self.eps.item())
        if self.fake_quant_enabled[0] == 0:
            return X
        scale, zero_point = self.scale, self.zero_point
        if self.learning_enabled[0] == 0:  # no gradient, whatever requires_grad says
            scale, zero_point = scale.detach(), zero_point.detach()
        grad_factor = 1.0 / math.sqrt(X.numel() * self.quant_max) if self.use_grad_scaling \
            else 1.0
        if not self.is_per_channel:
            return torch._fake_quantize_learnable_per_tensor_affine(
                X, scale, zero_point, self.quant_min, self.quant_max, grad_factor)
        if scale.numel() != X.shape[self.ch_axis]:
            raise RuntimeError(
                f'{type(self).__name__} has {scale.numel()} scale(s) for {X.shape[self.ch_axis]}'
                f' channels (ch_axis={self.ch_axis}): run it once with the static estimate '
                'enabled (enable_static_estimate) or load its state dict first')
        return torch._fake_quantize_learnable_per_channel_affine(
            X, scale, zero_point, self.ch_axis, self.quant_min, self.quant_max, grad_factor)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args, **kwargs) -> None:
        # Per-channel scale and zero point start with one element: take the shape of
        # the checkpoint's (as torch's FakeQuantize does).
        for name in ('scale', 'zero_point'):
            if prefix + name in state_dict:
                value = getattr(self, name)
                value.data = value.data.new_empty(state_dict[prefix + name].shape)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        return (f'static_enabled={self.static_enabled}, learning_enabled='
                f'{self.learning_enabled}, fake_quant_enabled={self.fake_quant_enabled}, '
                f'quant_min={self.quant_min}, quant_max={self.quant_max}, dtype={self.dtype}, '
                f'qscheme={self.qscheme}, ch_axis={self.ch_axis}, scale={self.scale.data}, '
                f'zero_point={self.zero_point.data}, '
                f'zero_point_trainable={self.zero_point_trainable}')


def enable_param_learning(mod: nn.Module) -> None:
    """Put a LearnableFakeQuantize in parameter-learning mode: ``model.apply(this)``."""
    if isinstance(mod, LearnableFakeQuantize):
        mod.enable_param_learning()


def enable_static_estimate(mod: nn.Module) -> None:
    """Put a LearnableFakeQuantize in static-estimate mode: ``model.apply(this)``."""
    if isinstance(mod, LearnableFakeQuantize):
        mod.enable_static_estimate()


def enable_val(mod: nn.Module) -> None:
    """Put a LearnableFakeQuantize in validation mode: ``model.apply(this)``."""
    if isinstance(mod, LearnableFakeQuantize):
        mod.enable_val()
