"""Hooks for the MMEngine Runner."""
from .estimate_resources_hook import EstimateResourcesHook
from .pruning_structure_hook import PruningStructureHook
from .resource_info_hook import ResourceInfoHook
from .stop_distillation_hook import StopDistillHook
from .visualization_hook import RazorVisualizationHook

__all__ = ['EstimateResourcesHook', 'StopDistillHook', 'RazorVisualizationHook',
           'PruningStructureHook', 'ResourceInfoHook']
from .dmcp_subnet_hook import DMCPSubnetHook  # noqa: E402

__all__ += ['DMCPSubnetHook']
from .dump_subnet_hook import DumpSubnetHook  # noqa: E402

__all__ += ['DumpSubnetHook']
