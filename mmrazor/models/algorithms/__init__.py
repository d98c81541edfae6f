"""Algorithms: BaseModels that wrap an upstream model and compress it."""
from .base import BaseAlgorithm, architecture_of
from .distill import *  # noqa: F401,F403
from .distill import __all__ as _distill_all
from .nas import *  # noqa: F401,F403
from .nas import __all__ as _nas_all
from .pruning import *  # noqa: F401,F403
from .pruning import __all__ as _pruning_all
from .quantization import *  # noqa: F401,F403
from .quantization import __all__ as _quantization_all

__all__ = ['BaseAlgorithm', 'architecture_of'] + list(_distill_all) + list(_nas_all) + list(
    _pruning_all) + list(_quantization_all)
