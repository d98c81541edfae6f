"""Data structures of mmrazor: subnets (what a search or pruning chose)."""
from .quantization import *  # noqa: F401,F403
from .subnet import *  # noqa: F401,F403
from .subnet import __all__  # noqa: F401
