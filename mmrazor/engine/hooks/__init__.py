"""Hooks for the MMEngine Runner."""
from .estimate_resources_hook import EstimateResourcesHook
from .stop_distillation_hook import StopDistillHook

__all__ = ['EstimateResourcesHook', 'StopDistillHook']
