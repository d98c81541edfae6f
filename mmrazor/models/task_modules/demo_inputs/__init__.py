"""Demo inputs: random batches shaped like real ones, for running a model without data."""
from .default_demo_inputs import (
    DefaultDemoInput,
    defaul_demo_inputs,
    default_demo_inputs,
    get_default_demo_input_class,
)
from .demo_inputs import (
    BaseDemoInput,
    DefaultMMClsDemoInput,
    DefaultMMDemoInput,
    DefaultMMDetDemoInput,
    DefaultMMPoseDemoInput,
    DefaultMMRotateDemoInput,
    DefaultMMSegDemoInput,
    DefaultMMYoloDemoInput,
)

__all__ = [
    'BaseDemoInput', 'DefaultMMDemoInput', 'DefaultMMClsDemoInput', 'DefaultMMDetDemoInput',
    'DefaultMMSegDemoInput', 'DefaultMMRotateDemoInput', 'DefaultMMYoloDemoInput',
    'DefaultMMPoseDemoInput', 'DefaultDemoInput', 'get_default_demo_input_class',
    'defaul_demo_inputs', 'default_demo_inputs'
]
