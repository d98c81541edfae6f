"""mmrazor: model compression on OpenMMLab: knowledge distillation, structured pruning
and resource estimation (NAS and quantization are not implemented yet)."""
from .version import __version__

__all__ = ['__version__']
