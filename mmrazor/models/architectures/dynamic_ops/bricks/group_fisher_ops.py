"""Group Fisher ops: dynamic conv/linear layers that record what Fisher pruning needs.

While recording, each call stores the layer's input activation and, in the backward
pass, the gradient of the loss with respect to that input *through this layer only*
(a view of the input is handed to the layer and the gradient is taken on the view),
plus the output shape, from which the FLOPs and activation memory of one channel
follow.
"""
from typing import Any, List, Optional, Tuple

import torch

from .dynamic_conv import DynamicConv2d
from .dynamic_linear import DynamicLinear


class GroupFisherMixin:
    """Recording of inputs, input gradients and output shapes, per call.

    ``recorded_input[i]`` and ``recorded_grad[i]`` belong to the ``i``-th call since
    recording started (a layer may be called several times per step).
    """

    def _init_recording(self) -> None:
        self.recorded_input: List[torch.Tensor] = []
        self.recorded_grad: List[Optional[torch.Tensor]] = []
        self.recorded_out_shape: List[torch.Size] = []
        self._record_handles: List[Any] = []

    @property
    def is_recording(self) -> bool:
        """Whether calls are being recorded."""
        return bool(self._record_handles)

    def start_record(self: Any) -> None:
        """Record every following call (idempotent)."""
        if self.is_recording:
            return
        self._record_handles = [
            self.register_forward_pre_hook(GroupFisherMixin._record_input),
            self.register_forward_hook(GroupFisherMixin._record_output),
        ]

    def end_record(self) -> None:
        """Stop recording; what was recorded is kept until ``reset_recorded``."""
        for handle in self._record_handles:
            handle.remove()
        self._record_handles = []

    def reset_recorded(self) -> None:
        """Forget what was recorded."""
        self.recorded_input, self.recorded_grad, self.recorded_out_shape = [], [], []

    @staticmethod
    def _record_input(module: 'GroupFisherMixin', args: Tuple) -> Optional[Tuple]:
        x = args[0]
        if not (isinstance(x, torch.Tensor) and x.requires_grad):
            return None  # e.g. the image: no gradient, nothing to prune there
        index = len(module.recorded_input)
        module.recorded_input.append(x.detach())
        module.recorded_grad.append(None)
        view = x.view_as(x)  # its gradient comes from this layer only

        def save_grad(grad: torch.Tensor) -> None:
            module.recorded_grad[index] = grad.detach()

        view.register_hook(save_grad)
        return (view, *args[1:])

    @staticmethod
    def _record_output(module: 'GroupFisherMixin', args: Tuple, output: Any) -> None:
        module.recorded_out_shape.append(output.shape)

    def recorded_pairs(self) -> List[Tuple[torch.Tensor, torch.Tensor]]:
        """(input, input gradient) of every recorded call that got a gradient."""
        return [(x, g) for x, g in zip(self.recorded_input, self.recorded_grad)
                if g is not None]

    def in_channel_contribution(self, x: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        """``sum(activation * gradient)`` per sample and active input channel, ``[B, C]``."""
        raise NotImplementedError

    def full_in_channels(self, contribution: torch.Tensor) -> torch.Tensor:
        """``[B, active]`` spread over all input channels (pruned ones get 0)."""
        in_mask = self.in_mask()
        if in_mask is None:
            return contribution
        full = contribution.new_zeros(contribution.shape[0], in_mask.numel())
        full[:, in_mask] = contribution
        return full

    def delta_flops_of_out_channel(self) -> float:
        """MACs saved by removing one output channel, over the recorded calls."""
        raise NotImplementedError

    def delta_flops_of_in_channel(self) -> float:
        """MACs saved by removing one input channel, over the recorded calls."""
        raise NotImplementedError

    def delta_memory_of_out_channel(self) -> float:
        """Output activation elements (per sample) one output channel holds."""
        raise NotImplementedError


def _active(mask: Optional[torch.Tensor], full: int) -> int:
    return full if mask is None else int(mask.sum())


class GroupFisherConv2d(DynamicConv2d, GroupFisherMixin):
    """A ``DynamicConv2d`` that records Fisher information (see the module docstring)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_recording()

    def _active_groups(self) -> Tuple[int, int, int]:
        """(active input channels, active output channels, active groups)."""
        weight, _, groups = self.active_conv_params()
        return weight.shape[1] * groups, weight.shape[0], groups

    def _kernel_positions(self) -> int:
        """Output positions times kernel size, summed over recorded calls, per sample."""
        kernel = self.kernel_size[0] * self.kernel_size[1]
        return sum(shape[-1] * shape[-2] for shape in self.recorded_out_shape) * kernel

    def in_channel_contribution(self, x: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        return (x * grad).sum(dim=(2, 3))

    def delta_flops_of_out_channel(self) -> float:
        in_c, _, groups = self._active_groups()
        return self._kernel_positions() * in_c / groups

    def delta_flops_of_in_channel(self) -> float:
        _, out_c, groups = self._active_groups()
        return self._kernel_positions() * out_c / groups

    def delta_memory_of_out_channel(self) -> float:
        return float(sum(shape[-1] * shape[-2] for shape in self.recorded_out_shape))

    @property
    def is_depthwise(self) -> bool:
        """Each output channel reads its own input channel only."""
        return self.groups > 1 and self.groups == self.in_channels == self.out_channels


class GroupFisherLinear(DynamicLinear, GroupFisherMixin):
    """A ``DynamicLinear`` that records Fisher information (see the module docstring)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_recording()

    def _rows(self) -> int:
        """Rows (per sample) the recorded calls multiplied, e.g. tokens."""
        rows = 0
        for shape in self.recorded_out_shape:
            per_sample = 1
            for size in shape[1:-1]:
                per_sample *= size
            rows += per_sample
        return rows

    def in_channel_contribution(self, x: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        product = x * grad
        return product.reshape(product.shape[0], -1, product.shape[-1]).sum(1)

    def delta_flops_of_out_channel(self) -> float:
        return float(self._rows() * _active(self.in_mask(), self.in_features))

    def delta_flops_of_in_channel(self) -> float:
        return float(self._rows() * _active(self.out_mask(), self.out_features))

    def delta_memory_of_out_channel(self) -> float:
        return float(self._rows())
