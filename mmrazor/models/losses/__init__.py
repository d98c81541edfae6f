"""Distillation losses (registered in MODELS)."""
