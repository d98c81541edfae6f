"""Loops for the MMEngine Runner."""
from .distill_val_loop import SelfDistillValLoop, SingleTeacherDistillValLoop

__all__ = ['SingleTeacherDistillValLoop', 'SelfDistillValLoop']
