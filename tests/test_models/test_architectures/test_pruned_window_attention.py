"""``window_attention`` computes torchvision's shifted-window attention exactly."""
import copy

import pytest
import torch
from torchvision.models.swin_transformer import (
    ShiftedWindowAttention,
    ShiftedWindowAttentionV2,
)

from mmrazor.models.architectures.ops.pruned_window_attention import (
    PrunedShiftedWindowAttention,
    PrunedShiftedWindowAttentionV2,
)

PAIRS = [(ShiftedWindowAttention, PrunedShiftedWindowAttention),
         (ShiftedWindowAttentionV2, PrunedShiftedWindowAttentionV2)]


@pytest.mark.parametrize('torch_cls,pruned_cls', PAIRS)
@pytest.mark.parametrize('shift', [[0, 0], [2, 2]])
@pytest.mark.parametrize('size', [(8, 8), (9, 11), (3, 3)])  # exact, padded, one window
def test_full_width_equals_torchvision(torch_cls, pruned_cls, shift, size):
    torch.manual_seed(0)
    module = torch_cls(24, [4, 4], shift, 3).eval()
    with torch.no_grad():
        for param in module.parameters():
            param.normal_(0, 0.2)
    pruned = copy.deepcopy(module)
    pruned.__class__ = pruned_cls
    pruned.scale = 8**-0.5
    x = torch.randn(2, *size, 24)
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), module(x), atol=1e-6, rtol=1e-5)
