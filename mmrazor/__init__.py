"""mmrazor: model compression on OpenMMLab: knowledge distillation and resource
estimation (NAS, pruning and quantization are not implemented yet)."""
from .version import __version__

__all__ = ['__version__']
