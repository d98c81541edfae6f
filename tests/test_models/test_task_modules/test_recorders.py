"""Recorders and RecorderManager on a small real conv net."""
import sys

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.models.task_modules import (
    FunctionInputsRecorder,
    FunctionOutputsRecorder,
    MethodInputsRecorder,
    MethodOutputsRecorder,
    ModuleInputsRecorder,
    ModuleOutputsRecorder,
    ParameterRecorder,
    RecorderManager,
)
from mmrazor.registry import TASK_UTILS

THIS = sys.modules[__name__]


def toy_scale(x: torch.Tensor, factor: float = 3.0) -> torch.Tensor:
    """A module-level function that ToyNet looks up in this module at call time."""
    return x * factor


class ToyHead(nn.Module):

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 3)

    def pair(self, x: torch.Tensor, shift: float = 2.0) -> tuple:
        return x * 2, x + shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scaled, shifted = self.pair(self.fc(x))
        return scaled + shifted


class ToyNet(nn.Module):
    """conv -> relu -> pool -> neck -> toy_scale -> head (applied twice)."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(2), nn.Flatten())
        self.neck = nn.Linear(16, 8)
        self.head = ToyHead()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = toy_scale(F.relu(self.neck(self.backbone(x))))
        return self.head(feat) + self.head(feat * 0.5)


class Base:

    def ping(self, x: int) -> int:
        return x + 1


class Child(Base):
    pass


class Util:

    @staticmethod
    def twice(x: int) -> int:
        return 2 * x

    @classmethod
    def make(cls, value: int, extra: int = 5) -> tuple:
        return cls, value + extra


@pytest.fixture
def model() -> ToyNet:
    torch.manual_seed(0)
    return ToyNet()


@pytest.fixture
def inputs() -> torch.Tensor:
    torch.manual_seed(1)
    return torch.randn(2, 1, 6, 6)


def _feat(model: ToyNet, inputs: torch.Tensor) -> torch.Tensor:
    """The head's input, computed directly."""
    return toy_scale(F.relu(model.neck(model.backbone(inputs))))


def test_module_outputs_recorder_records_each_call_and_keeps_the_graph(model, inputs):
    recorder = TASK_UTILS.build(dict(type='ModuleOutputsRecorder', source='head.fc'))
    recorder.initialize(model)
    with recorder:
        model(inputs)
    feat = _feat(model, inputs)
    assert len(recorder.data_buffer) == 2
    torch.testing.assert_close(recorder.get_record_data(0), model.head.fc(feat))
    torch.testing.assert_close(recorder.get_record_data(1), model.head.fc(feat * 0.5))
    recorder.get_record_data(1).pow(2).sum().backward()  # the record is in the graph
    assert model.neck.weight.grad.abs().sum() > 0


def test_module_recorders_record_only_inside_the_context(model, inputs):
    recorder = ModuleOutputsRecorder('neck')
    recorder.initialize(model)
    model(inputs)
    assert recorder.data_buffer == []
    with recorder:
        model(inputs)
    model(inputs)
    assert len(recorder.data_buffer) == 1 and not recorder.recording
    with recorder:  # a new context starts new records
        model(inputs[:1])
    assert recorder.get_record_data().shape == (1, 8)


def test_module_inputs_recorder_records_the_positional_input_tuple(model, inputs):
    recorder = ModuleInputsRecorder('head')
    recorder.initialize(model)
    with recorder:
        model(inputs)
    feat = _feat(model, inputs)
    assert isinstance(recorder.get_record_data(0), tuple)
    torch.testing.assert_close(recorder.get_record_data(0, data_idx=0), feat)
    torch.testing.assert_close(recorder.get_record_data(1, 0), feat * 0.5)


def test_initialize_again_moves_the_hook(model, inputs):
    recorder = ModuleOutputsRecorder('neck')
    recorder.initialize(model)
    recorder.initialize(model)
    with recorder:
        model(inputs)
    assert len(recorder.data_buffer) == 1


def test_get_record_data_errors_say_how_many_records_and_items(model, inputs):
    recorder = MethodOutputsRecorder(f'{__name__}.ToyHead.pair')
    with recorder:
        model(inputs)
    with pytest.raises(IndexError, match=r"has 2 record\(s\), so record_idx=2 is out"):
        recorder.get_record_data(2)
    with pytest.raises(IndexError, match=r"Record 0 of .* has 2 item\(s\), so data_idx=3"):
        recorder.get_record_data(0, 3)
    neck = ModuleOutputsRecorder('neck')
    neck.initialize(model)
    with neck:
        model(inputs)
    with pytest.raises(TypeError, match='needs a tuple or list record.*Tensor'):
        neck.get_record_data(0, 0)


def test_method_outputs_recorder_records_tuples_and_restores(model, inputs):
    original = ToyHead.pair
    recorder = TASK_UTILS.build(dict(type='MethodOutputsRecorder',
                                     source=f'{__name__}.ToyHead.pair'))
    with recorder:
        assert ToyHead.pair is not original
        model(inputs)
    assert ToyHead.pair is original
    logits = model.head.fc(_feat(model, inputs))
    torch.testing.assert_close(recorder.get_record_data(0, data_idx=0), logits * 2)
    torch.testing.assert_close(recorder.get_record_data(0, data_idx=1), logits + 2.0)


def test_method_inputs_recorder_binds_arguments_without_self(model, inputs):
    recorder = MethodInputsRecorder(f'{__name__}.ToyHead.pair')
    with recorder:
        model(inputs)
        model.head.pair(torch.ones(1), shift=7.0)
    logits = model.head.fc(_feat(model, inputs))
    first = recorder.get_record_data(0)
    assert isinstance(first, list) and len(first) == 2
    torch.testing.assert_close(first[0], logits)
    assert first[1] == 2.0  # the default is filled in
    assert recorder.get_record_data(2, data_idx=1) == 7.0


def test_function_recorders_patch_the_module_function(model, inputs):
    original = toy_scale
    outputs = FunctionOutputsRecorder(f'{__name__}.toy_scale')
    arguments = FunctionInputsRecorder(f'{__name__}.toy_scale')
    with outputs, arguments:
        model(inputs)
    assert THIS.toy_scale is original
    hidden = F.relu(model.neck(model.backbone(inputs)))
    torch.testing.assert_close(outputs.get_record_data(), hidden * 3.0)
    recorded_x, recorded_factor = arguments.get_record_data()
    torch.testing.assert_close(recorded_x, hidden)
    assert recorded_factor == 3.0


def test_function_recorder_on_torch_functional(model, inputs):
    recorder = TASK_UTILS.build(dict(type='FunctionOutputsRecorder',
                                     source='torch.nn.functional.relu'))
    with recorder:
        model(inputs)
    assert len(recorder.data_buffer) == 2  # nn.ReLU calls F.relu too
    torch.testing.assert_close(recorder.get_record_data(0), F.relu(model.backbone[0](inputs)))
    torch.testing.assert_close(recorder.get_record_data(1),
                               F.relu(model.neck(model.backbone(inputs))))


def test_function_recorder_misses_callers_that_imported_the_name(inputs):
    """``from m import f`` keeps the original: the documented limitation."""
    from torch.nn.functional import relu
    recorder = FunctionOutputsRecorder('torch.nn.functional.relu')
    with recorder:
        relu(inputs)
        F.relu(inputs)
    assert len(recorder.data_buffer) == 1


@pytest.mark.parametrize('recorder_type, owner, name, calls', [
    (MethodOutputsRecorder, ToyHead, 'pair', 2),
    (MethodInputsRecorder, ToyHead, 'pair', 2),
    (FunctionOutputsRecorder, THIS, 'toy_scale', 1),
    (FunctionInputsRecorder, THIS, 'toy_scale', 1),
])
def test_patches_are_restored_when_the_body_raises(recorder_type, owner, name, calls, model,
                                                   inputs):
    original = getattr(owner, name)
    recorder = recorder_type(f'{__name__}.{owner.__name__}.{name}' if owner is ToyHead
                             else f'{__name__}.{name}')
    with pytest.raises(ZeroDivisionError):
        with recorder:
            model(inputs)
            1 / 0
    assert getattr(owner, name) is original
    assert not recorder.recording and len(recorder.data_buffer) == calls


def test_inherited_static_and_class_methods_are_patched_and_restored():
    child = MethodOutputsRecorder(f'{__name__}.Child.ping')
    static = MethodInputsRecorder(f'{__name__}.Util.twice')
    klass = MethodInputsRecorder(f'{__name__}.Util.make')
    with child, static, klass:
        assert Child().ping(1) == 2 and Base().ping(5) == 6
        assert Util.twice(4) == 8 and Util().twice(5) == 10
        assert Util.make(1) == (Util, 6)
    assert child.data_buffer == [2]  # the parent's method is not patched
    assert 'ping' not in vars(Child) and Child.ping is Base.ping
    assert static.data_buffer == [[4], [5]]
    assert isinstance(vars(Util)['twice'], staticmethod)
    assert klass.data_buffer == [[1, 5]]
    assert isinstance(vars(Util)['make'], classmethod)


def test_parameter_recorder_records_the_parameter_itself(model, inputs):
    recorder = TASK_UTILS.build(dict(type='ParameterRecorder', source='head.fc.weight'))
    recorder.initialize(model)
    assert recorder.get_record_data() is model.head.fc.weight
    with recorder:
        model(inputs).sum().backward()
    assert recorder.get_record_data().grad is model.head.fc.weight.grad is not None
    with torch.no_grad():
        model.head.fc.weight.zero_()
    assert recorder.get_record_data().abs().sum() == 0  # the current values
    assert len(recorder.data_buffer) == 1


def test_bad_sources_fail_at_initialize_or_build_with_closest_names(model):
    with pytest.raises(KeyError, match="No module 'head.fcc' in ToyNet; closest: head.fc"):
        ModuleOutputsRecorder('head.fcc').initialize(model)
    with pytest.raises(KeyError, match="No module 'nek' in ToyNet; closest: neck"):
        ModuleInputsRecorder('nek').initialize(model)
    with pytest.raises(KeyError, match="No parameter 'head.fc.weigth'.*head.fc.weight"):
        ParameterRecorder('head.fc.weigth').initialize(model)
    with pytest.raises(ImportError, match="no attribute 'pairr'; closest: pair"):
        TASK_UTILS.build(dict(type='MethodOutputsRecorder',
                              source=f'{__name__}.ToyHead.pairr'))
    with pytest.raises(ImportError, match="no attribute 'toy_scal'; closest: toy_scale"):
        FunctionInputsRecorder(f'{__name__}.toy_scal')
    with pytest.raises(TypeError, match='not a module-level function'):
        FunctionOutputsRecorder(f'{__name__}.ToyHead.pair')
    with pytest.raises(TypeError, match='not a method of a class'):
        MethodOutputsRecorder(f'{__name__}.toy_scale')
    with pytest.raises(TypeError, match="inputs of 'torch.cat'.*no inspectable signature"):
        FunctionInputsRecorder('torch.cat')


def test_module_recorders_need_a_model():
    with pytest.raises(ValueError, match='needs the model'):
        ModuleOutputsRecorder('neck').initialize()
    with pytest.raises(RuntimeError, match=r'call initialize\(model\) first'):
        with ModuleOutputsRecorder('neck'):
            pass


def test_a_recorder_cannot_be_entered_twice():
    original = toy_scale
    recorder = FunctionOutputsRecorder(f'{__name__}.toy_scale')
    with recorder:
        with pytest.raises(RuntimeError, match='already recording'):
            recorder.__enter__()
    assert THIS.toy_scale is original


def test_recorder_manager_builds_initializes_and_enters_all(model, inputs):
    manager = RecorderManager(dict(
        fc=dict(type='ModuleOutputs', source='head.fc'),
        head_in=dict(type='ModuleInputs', source='head'),
        pair=dict(type='MethodOutputs', source=f'{__name__}.ToyHead.pair'),
        scale_out=dict(type='FunctionOutputsRecorder', source=f'{__name__}.toy_scale'),
        scale_in=dict(type='FunctionInputs', source=f'{__name__}.toy_scale'),
        weight=dict(type='Parameter', source='neck.weight')))
    assert isinstance(manager.get_recorder('fc'), ModuleOutputsRecorder)
    assert isinstance(manager.get_recorder('scale_out'), FunctionOutputsRecorder)
    assert list(manager.recorders) == ['fc', 'head_in', 'pair', 'scale_out', 'scale_in',
                                       'weight']
    manager.initialize(model)
    original_pair, original_scale = ToyHead.pair, toy_scale
    with manager:
        model(inputs)
    assert ToyHead.pair is original_pair and THIS.toy_scale is original_scale
    feat = _feat(model, inputs)
    torch.testing.assert_close(manager.get_recorder('fc').get_record_data(1),
                               model.head.fc(feat * 0.5))
    torch.testing.assert_close(manager.get_recorder('head_in').get_record_data(0, 0), feat)
    torch.testing.assert_close(manager.get_recorder('scale_out').get_record_data(), feat)
    assert manager.get_recorder('scale_in').get_record_data(0, 1) == 3.0
    assert len(manager.get_recorder('pair').data_buffer) == 2
    assert manager.get_recorder('weight').get_record_data() is model.neck.weight
    assert RecorderManager().recorders == {}


def test_recorder_manager_errors(model):
    manager = RecorderManager(dict(fc=dict(type='ModuleOutputs', source='head.fc')))
    with pytest.raises(KeyError, match=r"No recorder named 'logits'; the recorder names are "
                                       r"\['fc'\]"):
        manager.get_recorder('logits')
    with pytest.raises(KeyError, match='ModuleOutputsRecorder'):
        RecorderManager(dict(fc=dict(type='ModuleOutput', source='head.fc')))
    bad = RecorderManager(dict(fc=dict(type='ModuleOutputs', source='head.fcc')))
    with pytest.raises(KeyError, match="No module 'head.fcc' in ToyNet; closest: head.fc"):
        bad.initialize(model)


class _FailingExit:

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        raise RuntimeError('exit failed')


def test_recorder_manager_exits_all_even_if_one_fails_or_the_body_raises(model, inputs):
    manager = RecorderManager(dict(
        pair=dict(type='MethodInputs', source=f'{__name__}.ToyHead.pair'),
        scale=dict(type='FunctionOutputs', source=f'{__name__}.toy_scale')))
    original_pair, original_scale = ToyHead.pair, toy_scale
    with pytest.raises(ZeroDivisionError):
        with manager:
            model(inputs)
            1 / 0
    assert ToyHead.pair is original_pair and THIS.toy_scale is original_scale
    manager.recorders['failing'] = _FailingExit()
    with pytest.raises(RuntimeError, match='exit failed'):
        with manager:
            model(inputs)
    assert ToyHead.pair is original_pair and THIS.toy_scale is original_scale
    del manager.recorders['failing']
    assert not any(recorder.recording for recorder in manager.recorders.values())
    with manager:  # usable again
        model(inputs)
    assert len(manager.get_recorder('pair').data_buffer) == 2
