"""Classification heads of searchable architectures."""
from .darts_subnet_head import DartsSubnetClsHead

__all__ = ['DartsSubnetClsHead']
