"""Quantization structures: qscheme and qconfig handlers."""
from .qconfig import QConfigHandler
from .qscheme import QSchemeHandler

__all__ = ['QConfigHandler', 'QSchemeHandler']
