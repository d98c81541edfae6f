"""Architecture components of mmrazor: the distillation connectors."""
from .connectors import *  # noqa: F401,F403
from .connectors import __all__  # noqa: F401
