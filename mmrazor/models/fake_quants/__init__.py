"""Fake-quants (registered in MODELS): torch's, by their torch names, and LSQ's."""
from .lsq import (
    LearnableFakeQuantize,
    enable_param_learning,
    enable_static_estimate,
    enable_val,
)
from .torch_fake_quants import TORCH_FAKE_QUANTS, register_torch_fake_quants

__all__ = [
    'LearnableFakeQuantize', 'TORCH_FAKE_QUANTS', 'enable_param_learning',
    'enable_static_estimate', 'enable_val', 'register_torch_fake_quants'
]
