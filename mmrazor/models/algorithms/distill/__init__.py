"""Knowledge-distillation algorithms."""
from .configurable import *  # noqa: F401,F403
from .configurable import __all__  # noqa: F401
