"""Deliveries: the student's run gets the teacher's random sampling."""
import sys

import pytest
import torch
import torch.nn as nn

from mmrazor.models.task_modules import (
    DistillDeliveryManager,
    FunctionOutputsDelivery,
    MethodOutputsDelivery,
)
from mmrazor.registry import TASK_UTILS

THIS = sys.modules[__name__]
SAMPLED_SHAPES = []


def sample_noise(shape: torch.Size) -> torch.Tensor:
    """Random sampling that teacher and student must share; counts its real calls."""
    SAMPLED_SHAPES.append(tuple(shape))
    return torch.rand(shape)


ORIGINAL_SAMPLE_NOISE = sample_noise  # the global name is what the deliveries patch


class Sampler:

    def draw(self, n: int) -> torch.Tensor:
        return torch.randn(n)


class NoisyNet(nn.Module):
    """Adds sampled noise to its input, then a sampled per-feature scale."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.sampler = Sampler()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc((x + sample_noise(x.shape)) * self.sampler.draw(4))


@pytest.fixture(autouse=True)
def clear_calls():
    SAMPLED_SHAPES.clear()


@pytest.fixture
def nets() -> tuple:
    torch.manual_seed(0)
    return NoisyNet(), NoisyNet()


def test_function_delivery_gives_the_student_the_teachers_output(nets):
    teacher, student = nets
    delivery = TASK_UTILS.build(dict(type='FunctionOutputsDelivery',
                                     func_path=f'{__name__}.sample_noise'))
    x = torch.randn(3, 4)
    with delivery:
        teacher(x).sum().backward()
    assert SAMPLED_SHAPES == [(3, 4)] and len(delivery.data_queue) == 1
    noise = delivery.data_queue[0]
    delivery.override_data = True
    torch.manual_seed(1)
    with delivery:
        student_out = student(x)
    assert SAMPLED_SHAPES == [(3, 4)]  # not executed for the student
    assert len(delivery.data_queue) == 0
    torch.manual_seed(1)
    torch.testing.assert_close(student_out, student.fc((x + noise) * torch.randn(4)))
    student_out.sum().backward()
    assert student.fc.weight.grad is not None
    assert THIS.sample_noise is ORIGINAL_SAMPLE_NOISE


def test_method_delivery_and_restore_on_exception(nets):
    teacher, student = nets
    original = Sampler.draw
    delivery = MethodOutputsDelivery(f'{__name__}.Sampler.draw')
    with delivery:
        scale = teacher.sampler.draw(4)
    delivery.override_data = True
    with pytest.raises(ZeroDivisionError):
        with delivery:
            assert student.sampler.draw(4) is scale
            1 / 0
    assert Sampler.draw is original


def test_function_delivery_restores_on_exception():
    delivery = FunctionOutputsDelivery(f'{__name__}.sample_noise')
    with pytest.raises(ZeroDivisionError):
        with delivery:
            assert THIS.sample_noise is not ORIGINAL_SAMPLE_NOISE
            1 / 0
    assert THIS.sample_noise is ORIGINAL_SAMPLE_NOISE


def test_max_keep_data_bounds_the_queue_in_fifo_order():
    delivery = FunctionOutputsDelivery(f'{__name__}.sample_noise', max_keep_data=2)
    assert delivery.data_queue.maxlen == 2
    with delivery:
        first, second = THIS.sample_noise((2, )), THIS.sample_noise((3, ))
        with pytest.raises(RuntimeError, match='already keeps max_keep_data=2'):
            THIS.sample_noise((4, ))
    assert SAMPLED_SHAPES == [(2, ), (3, )]
    delivery.override_data = True
    with delivery:
        assert THIS.sample_noise((9, )) is first
        assert THIS.sample_noise((9, )) is second
        with pytest.raises(RuntimeError, match='no output to deliver'):
            THIS.sample_noise((9, ))
    assert SAMPLED_SHAPES == [(2, ), (3, )]
    with pytest.raises(ValueError, match='max_keep_data must be >= 1'):
        FunctionOutputsDelivery(f'{__name__}.sample_noise', max_keep_data=0)


def test_bad_paths_fail_at_build_with_closest_names():
    with pytest.raises(ImportError, match="no attribute 'sample_nose'; closest: sample_noise"):
        FunctionOutputsDelivery(f'{__name__}.sample_nose')
    with pytest.raises(ImportError, match="no attribute 'drow'; closest: draw"):
        TASK_UTILS.build(dict(type='MethodOutputsDelivery',
                              method_path=f'{__name__}.Sampler.drow'))
    with pytest.raises(TypeError, match='not a method of a class'):
        MethodOutputsDelivery(f'{__name__}.sample_noise')


def test_delivery_manager_switches_and_enters_all(nets):
    teacher, student = nets
    manager = DistillDeliveryManager(dict(
        noise=dict(type='FunctionOutputs', func_path=f'{__name__}.sample_noise'),
        scale=dict(type='MethodOutputs', method_path=f'{__name__}.Sampler.draw')))
    assert set(manager.deliveries) == {'noise', 'scale'}
    assert isinstance(manager.deliveries['scale'], MethodOutputsDelivery)
    original_draw = Sampler.draw
    x = torch.randn(3, 4)
    manager.override_data = False
    with manager:
        teacher(x)
    noise = manager.deliveries['noise'].data_queue[0]
    scale = manager.deliveries['scale'].data_queue[0]
    manager.override_data = True
    assert manager.override_data
    assert all(delivery.override_data for delivery in manager.deliveries.values())
    with pytest.raises(ZeroDivisionError):
        with manager:
            student_out = student(x)
            1 / 0
    torch.testing.assert_close(student_out, student.fc((x + noise) * scale))
    assert SAMPLED_SHAPES == [(3, 4)]
    assert THIS.sample_noise is ORIGINAL_SAMPLE_NOISE and Sampler.draw is original_draw
    assert DistillDeliveryManager().deliveries == {}


def test_delivery_manager_accepts_only_the_two_types():
    with pytest.raises(ValueError, match=r"'ModuleOutputs'; the valid types are "
                                         r"\['FunctionOutputs', 'MethodOutputs'\]"):
        DistillDeliveryManager(dict(bad=dict(type='ModuleOutputs', source='fc')))
