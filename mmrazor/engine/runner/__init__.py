"""Loops for the MMEngine Runner."""
from .distill_val_loop import SingleTeacherDistillValLoop

__all__ = ['SingleTeacherDistillValLoop']
