"""Subnets: export the choices of a supernet or pruned model, load them back."""
from .deploy import (
    DEPLOY_FORMATS,
    TensorMode,
    deploy_static_model,
    export_onnx,
    export_program,
    save_state_dict,
)
from .fix_subnet import (
    convert_fix_subnet,
    export_fix_subnet,
    fix_all_mutables,
    load_fix_subnet,
    named_mutables,
    sub_model,
    to_static_model,
)

__all__ = [
    'DEPLOY_FORMATS', 'TensorMode', 'deploy_static_model', 'export_onnx', 'export_program',
    'save_state_dict', 'convert_fix_subnet', 'export_fix_subnet', 'fix_all_mutables',
    'load_fix_subnet', 'named_mutables', 'sub_model', 'to_static_model'
]
from .candidate import Candidates  # noqa: E402

__all__ += ['Candidates']
