"""Model wrappers for distributed training (registered in MODEL_WRAPPERS)."""
from .algorithm_ddp import AlgorithmDDP

__all__ = ['AlgorithmDDP']
