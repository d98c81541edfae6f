"""The mmrazor registries (children of MMEngine's) and their build functions."""
from .registry import (
                       DATA_SAMPLERS,
                       DATASETS,
                       HOOKS,
                       LOOPS,
                       METRICS,
                       MODEL_WRAPPERS,
                       MODELS,
                       OPTIM_WRAPPER_CONSTRUCTORS,
                       OPTIM_WRAPPERS,
                       OPTIMIZERS,
                       PARAM_SCHEDULERS,
                       RUNNER_CONSTRUCTORS,
                       RUNNERS,
                       SCOPE,
                       TASK_UTILS,
                       TRANSFORMS,
                       VISBACKENDS,
                       VISUALIZERS,
                       WEIGHT_INITIALIZERS,
)
from .suggestions import UnknownTypeError, explain_unknown_types

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'DATASETS',
    'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS', 'TASK_UTILS',
    'VISUALIZERS', 'VISBACKENDS', 'SCOPE', 'UnknownTypeError',
    'explain_unknown_types'
]

# ``_scope_='mmrazor'`` makes MMEngine import this module first: apply the stack
# fixes here so that configs run the same through our tools and MMEngine's.
from mmrazor.utils.compat import apply_compat_fixes  # noqa: E402

apply_compat_fixes()
