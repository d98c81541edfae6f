"""The 18 registries, their scope and the build errors for bad configs."""
import mmengine.registry as mmengine_registry
import pytest
import torch.nn as nn

import mmrazor.registry as razor_registry
from mmrazor.registry import MODELS, TASK_UTILS, UnknownTypeError, explain_unknown_types
from mmrazor.registry.registry import ALL_REGISTRIES

REGISTRY_NAMES = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'DATASETS', 'DATA_SAMPLERS',
    'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'OPTIMIZERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS',
    'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS'
]


@pytest.mark.parametrize('name', REGISTRY_NAMES)
def test_child_of_same_named_mmengine_registry(name):
    registry = getattr(razor_registry, name)
    assert registry.scope == 'mmrazor'
    assert registry.parent is getattr(mmengine_registry, name)
    assert registry.name == registry.parent.name
    assert registry.parent.children['mmrazor'] is registry


def test_eighteen_registries():
    assert len(ALL_REGISTRIES) == 18 == len(set(map(id, ALL_REGISTRIES)))


def test_scoped_name_builds_through_mmengine_root():
    """A config with type='mmrazor.X' built by MMEngine's root registry finds ours."""
    model = mmengine_registry.MODELS.build(
        dict(type='mmrazor.BaseAlgorithm',
             architecture=dict(type='mmpretrain.ImageClassifier',
                               backbone=dict(type='mmpretrain.LeNet5'))))
    assert type(model).__name__ == 'BaseAlgorithm'


def test_unknown_type_names_registry_scope_and_closest():
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmrazor'), \
            pytest.raises(UnknownTypeError) as info:
        MODELS.build(dict(type='BaseAlgoritm', architecture=dict()))
    message = str(info.value)
    assert "'BaseAlgoritm'" in message
    assert '"model" registry of scope "mmrazor"' in message
    assert 'Closest registered names: BaseAlgorithm' in message
    # under another default scope, the searched scope is named and ours is suggested
    with DefaultScope.overwrite_default_scope('mmpretrain'), \
            pytest.raises(UnknownTypeError, match='scope "mmpretrain".*mmrazor.BaseAlgorithm'):
        MODELS.build(dict(type='BaseAlgoritm', architecture=dict()))


def test_unknown_type_in_other_scope_is_suggested_with_scope():
    with pytest.raises(UnknownTypeError,
                       match='scope "mmpretrain".*Closest registered names: ImageClassifier'):
        MODELS.build(dict(type='mmpretrain.ImageClasifier'))


def test_unknown_type_in_task_utils():
    with pytest.raises(UnknownTypeError, match='"task util" registry'):
        TASK_UTILS.build(dict(type='NoSuchRecorder', source='x'))


def test_unknown_argument_is_named_with_suggestion():
    with pytest.raises(TypeError) as info:
        MODELS.build(dict(type='BaseAlgorithm', architecture=nn.Linear(2, 2),
                          module_inplce=True))
    message = str(info.value)
    assert 'BaseAlgorithm got unknown argument(s)' in message
    assert "'module_inplce' (did you mean 'module_inplace'?)" in message
    assert 'Valid arguments: architecture, data_preprocessor' in message


def test_missing_type_key():
    with pytest.raises(KeyError, match='must have a "type" key'):
        MODELS.build(dict(architecture=dict()))


def test_explain_unknown_types_enriches_mmengine_errors():
    """Builds through MMEngine's own registries (as the Runner does) get suggestions."""
    with pytest.raises(UnknownTypeError, match='Closest registered names: .*ResNet'):
        with explain_unknown_types():
            mmengine_registry.MODELS.build(dict(type='mmpretrain.ResNett', depth=18))


def test_return_architecture():
    arch = MODELS.build(dict(type='BaseAlgorithm', _return_architecture_=True,
                             architecture=dict(type='mmpretrain.ImageClassifier',
                                               backbone=dict(type='mmpretrain.LeNet5'))))
    assert type(arch).__name__ == 'ImageClassifier'


def test_return_architecture_needs_an_algorithm():
    with pytest.raises(TypeError, match='has none'):
        MODELS.build(dict(type='mmpretrain.LeNet5', _return_architecture_=True))


def test_own_names_resolve_under_another_default_scope():
    """After a Runner made 'mmpretrain' the default scope, mmrazor names still build."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(dict(type='BaseAlgorithm',
                                  architecture=dict(type='mmpretrain.ImageClassifier',
                                                    backbone=dict(type='LeNet5'))))
        recorder = TASK_UTILS.build(dict(type='ModuleOutputsRecorder', source='head'))
    assert type(model).__name__ == 'BaseAlgorithm'
    assert type(model.architecture).__module__.startswith('mmpretrain.')
    assert type(recorder).__name__ == 'ModuleOutputsRecorder'
