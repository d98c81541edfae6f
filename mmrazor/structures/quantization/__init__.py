"""Quantization structures: qscheme and qconfig handlers, policies, backend configs."""
from . import backend_config
from .backend_config import *  # noqa: F401,F403
from .policy import QuantizationPolicy
from .qconfig import QConfigHandler
from .qscheme import QSchemeHandler

__all__ = backend_config.__all__ + ['QConfigHandler', 'QSchemeHandler', 'QuantizationPolicy']
