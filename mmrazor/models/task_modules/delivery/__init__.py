"""Deliveries: give the student the outputs a callable returned in the teacher's run."""
from .delivery_manager import DistillDeliveryManager
from .distill_delivery import DistillDelivery
from .function_outputs_delivery import FunctionOutputsDelivery
from .method_outputs_delivery import MethodOutputsDelivery

__all__ = [
    'DistillDelivery', 'DistillDeliveryManager', 'FunctionOutputsDelivery',
    'MethodOutputsDelivery'
]
