"""Hooks for the MMEngine Runner."""
from .estimate_resources_hook import EstimateResourcesHook
from .stop_distillation_hook import StopDistillHook
from .visualization_hook import RazorVisualizationHook

__all__ = ['EstimateResourcesHook', 'StopDistillHook', 'RazorVisualizationHook']
