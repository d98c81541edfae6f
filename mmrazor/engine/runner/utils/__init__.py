"""Helpers of the NAS loops: BN recalibration, resource checks, genetic operators."""
from .calibrate_bn_mixin import CalibrateBNMixin
from .check import check_constraints_range, check_subnet_resources, within_constraints
from .genetic import crossover

__all__ = ['CalibrateBNMixin', 'check_subnet_resources', 'check_constraints_range',
           'within_constraints', 'crossover']
