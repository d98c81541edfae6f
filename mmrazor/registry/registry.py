"""The 18 mmrazor registries, each a child of the same-named MMEngine registry.

Modules register themselves lazily: a registry imports its ``locations`` the first time
it is searched, so ``import mmrazor`` stays fast and a config that names
``_scope_='mmrazor'`` finds every component without an explicit import.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

from .build_functions import build_razor_model_from_cfg, checked_build_func

SCOPE = 'mmrazor'
_MODEL_LOCATIONS = ['mmrazor.models', 'mmrazor.structures']
_ENGINE_LOCATIONS = ['mmrazor.engine']


def _child(parent: Registry, locations: list) -> Registry:
    """A same-named child of ``parent`` in scope ``mmrazor``; its errors suggest names."""
    return Registry(parent.name, parent=parent, scope=SCOPE, locations=locations,
                    build_func=checked_build_func(parent.build_func))


# manage all kinds of runners like `EpochBasedRunner` and `IterBasedRunner`
RUNNERS = _child(MMENGINE_RUNNERS, _ENGINE_LOCATIONS)
# manage runner constructors that define how to initialize runners
RUNNER_CONSTRUCTORS = _child(MMENGINE_RUNNER_CONSTRUCTORS,
                             _ENGINE_LOCATIONS)
# manage all kinds of loops like `EpochBasedTrainLoop`
LOOPS = _child(MMENGINE_LOOPS, _ENGINE_LOCATIONS)
# manage all kinds of hooks like `CheckpointHook`
HOOKS = _child(MMENGINE_HOOKS, _ENGINE_LOCATIONS)
# manage data-related modules
DATASETS = _child(MMENGINE_DATASETS, ['mmrazor.datasets'])
DATA_SAMPLERS = _child(MMENGINE_DATA_SAMPLERS, ['mmrazor.datasets'])
TRANSFORMS = _child(MMENGINE_TRANSFORMS, ['mmrazor.datasets'])
# manage algorithms, distillers, connectors, losses, generators, ...
MODELS = Registry(MMENGINE_MODELS.name, parent=MMENGINE_MODELS, scope=SCOPE,
                  locations=_MODEL_LOCATIONS,
                  build_func=build_razor_model_from_cfg)
# manage all kinds of model wrappers like 'MMDistributedDataParallel'
MODEL_WRAPPERS = _child(MMENGINE_MODEL_WRAPPERS, _MODEL_LOCATIONS)
# manage all kinds of weight initialization modules like `Uniform`
WEIGHT_INITIALIZERS = _child(MMENGINE_WEIGHT_INITIALIZERS,
                             _MODEL_LOCATIONS)
# manage all kinds of optimizers like `SGD` and `Adam`
OPTIMIZERS = _child(MMENGINE_OPTIMIZERS, _ENGINE_LOCATIONS)
# manage optimizer wrappers like `OptimWrapper` and `AmpOptimWrapper`
OPTIM_WRAPPERS = _child(MMENGINE_OPTIM_WRAPPERS,
                        _ENGINE_LOCATIONS)
# manage constructors that customize the optimization hyperparameters
OPTIM_WRAPPER_CONSTRUCTORS = _child(MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
                                    _ENGINE_LOCATIONS)
# manage all kinds of parameter schedulers like `MultiStepLR`
PARAM_SCHEDULERS = _child(MMENGINE_PARAM_SCHEDULERS,
                          _ENGINE_LOCATIONS)
# manage all kinds of metrics
METRICS = _child(MMENGINE_METRICS, _ENGINE_LOCATIONS)
# manage task-specific modules: recorders, deliveries, tracers, estimators, ...
TASK_UTILS = _child(MMENGINE_TASK_UTILS, _MODEL_LOCATIONS)
# manage visualizers and visualizer backends
VISUALIZERS = _child(MMENGINE_VISUALIZERS, _ENGINE_LOCATIONS)
VISBACKENDS = _child(MMENGINE_VISBACKENDS, _ENGINE_LOCATIONS)

ALL_REGISTRIES = (RUNNERS, RUNNER_CONSTRUCTORS, LOOPS, HOOKS, DATASETS,
                  DATA_SAMPLERS, TRANSFORMS, MODELS, MODEL_WRAPPERS,
                  WEIGHT_INITIALIZERS, OPTIMIZERS, OPTIM_WRAPPERS,
                  OPTIM_WRAPPER_CONSTRUCTORS, PARAM_SCHEDULERS, METRICS,
                  TASK_UTILS, VISUALIZERS, VISBACKENDS)
