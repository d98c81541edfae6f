"""torch 2.14: ``torch.export`` with a dynamic batch fails on fake-quantization.

``fake_quantize_per_tensor_affine`` dispatches to
``aten::fake_quantize_per_tensor_affine_cachemask``, which has no fake (meta)
kernel: with static shapes fake tensors fall back to running the real kernel, with a
symbolic batch size they cannot, and the export (hence the ONNX export of a QDQ model
with a dynamic batch) stops with ``UnsupportedOperatorException``. The op returns
the quantized tensor and a boolean mask of the input's shape; saying so is the fix.
"""
import torch

_OP = 'aten::fake_quantize_per_tensor_affine_cachemask'
_installed = False


def has_fake_kernel() -> bool:
    """Whether the op has a meta kernel now (torch's own, or this fix's)."""
    return torch._C._dispatch_has_kernel_for_dispatch_key(_OP, 'Meta')


# read before the fix is installed: once torch has its own kernel, delete this module
UPSTREAM_HAS_FAKE_KERNEL = has_fake_kernel()


def install_fake_quant_export_fix() -> None:
    """Register the op's fake kernel, once, where torch has none."""
    global _installed
    if _installed or has_fake_kernel():
        return

    @torch.library.register_fake(_OP)
    def _fake(x, scale, zero_point, quant_min, quant_max):
        return torch.empty_like(x), torch.empty_like(x, dtype=torch.bool)

    _installed = True
