"""Task modules: recorders, deliveries (and later tracers, estimators, predictors)."""
