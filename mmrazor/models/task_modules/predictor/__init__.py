"""Metric predictors: score subnets without evaluating them."""
from .handler import BaseHandler, CartsHandler, GaussProcessHandler, MLPHandler, RBFHandler
from .metric_predictor import MetricPredictor

__all__ = ['MetricPredictor', 'BaseHandler', 'CartsHandler', 'GaussProcessHandler',
           'MLPHandler', 'RBFHandler']
