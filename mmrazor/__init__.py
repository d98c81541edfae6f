"""mmrazor: model compression (NAS, pruning, distillation, quantization) on OpenMMLab."""
from .version import __version__

__all__ = ['__version__']
