"""Hooks for the MMEngine Runner."""
from .stop_distillation_hook import StopDistillHook

__all__ = ['StopDistillHook']
