"""Exporters of prepared (fake-quantized) graphs."""
from .onnx_qdq import export_qdq_onnx, fold_weight_quantize_linear

__all__ = ['export_qdq_onnx', 'fold_weight_quantize_linear']
