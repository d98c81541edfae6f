"""BYOTDistiller (detached self-teacher) and OFDDistiller (BN-derived margins)."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import mmrazor.models.architectures.connectors  # noqa: F401
import mmrazor.models.distillers  # noqa: F401
from mmrazor.models.architectures.connectors import OFDTeacherConnector
from mmrazor.registry import MODELS


class TinyNet(nn.Module):
    """conv-bn-relu, conv-bn-relu (stride 2), global pool, fc; for 3x8x8 inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        return self.fc(x.mean(dim=(2, 3)))


# ----------------------------------------------------------------------------- BYOT
def _byot_cfg(distiller_type: str = 'BYOTDistiller') -> dict:
    return dict(
        type=distiller_type,
        student_recorders=dict(shallow=dict(type='ModuleOutputs', source='bn1')),
        teacher_recorders=dict(logits=dict(type='ModuleOutputs', source='fc'),
                               shallow=dict(type='ModuleOutputs', source='bn1')),
        connectors=dict(byot=dict(type='BYOTConnector', in_channel=8, out_channel=16,
                                  num_classes=10, expansion=1, stride=2, pool_size=4)),
        distill_losses=dict(loss_l2=dict(type='L2Loss', normalize=False)),
        loss_forward_mappings=dict(loss_l2=dict(
            s_feature=dict(from_student=True, recorder='shallow', connector='byot',
                           connector_idx=1),
            t_feature=dict(from_student=False, recorder='logits'))))


def _self_distill(distiller_type: str):
    torch.manual_seed(0)
    model = TinyNet()
    distiller = MODELS.build(_byot_cfg(distiller_type))
    distiller.prepare_from_student(model)
    distiller.prepare_from_teacher(model)
    with distiller.teacher_recorders, distiller.student_recorders:
        logits = model(torch.randn(2, 3, 8, 8))
    return model, distiller, logits


def test_byot_teacher_records_are_detached():
    model, distiller, logits = _self_distill('BYOTDistiller')
    teacher_logits = distiller.get_record('logits', from_student=False)
    assert logits.requires_grad and not teacher_logits.requires_grad
    assert torch.equal(teacher_logits, logits)
    through_connector = distiller.get_record('shallow', from_student=False,
                                             connector='byot')
    assert isinstance(through_connector, tuple) and len(through_connector) == 2
    assert not any(t.requires_grad for t in through_connector)
    feat, shallow_logits = distiller.get_record('shallow', from_student=True,
                                                connector='byot')
    assert feat.shape == (2, 16) and shallow_logits.requires_grad

    distiller.compute_distill_losses()['loss_l2'].backward()
    assert model.fc.weight.grad is None  # the deepest classifier is only the teacher
    assert model.conv1.weight.grad is not None
    assert distiller.connectors['byot'].fc.weight.grad is not None


def test_configurable_distiller_keeps_the_teacher_graph():
    _, distiller, _ = _self_distill('ConfigurableDistiller')
    assert distiller.get_record('logits', from_student=False).requires_grad


# ------------------------------------------------------------------------------ OFD
def _ofd_cfg(teacher_source: str = 'bn2') -> dict:
    return dict(
        type='OFDDistiller',
        student_recorders=dict(feat=dict(type='ModuleOutputs', source='bn2')),
        teacher_recorders=dict(feat=dict(type='ModuleOutputs', source=teacher_source)),
        connectors=dict(s_feat=dict(type='ConvModuleConnector', in_channel=16,
                                    out_channel=16, norm_cfg=dict(type='BN')),
                        t_feat=dict(type='OFDTeacherConnector')),
        distill_losses=dict(loss_ofd=dict(type='OFDLoss')),
        loss_forward_mappings=dict(loss_ofd=dict(
            s_feature=dict(from_student=True, recorder='feat', connector='s_feat'),
            t_feature=dict(from_student=False, recorder='feat', connector='t_feat'))))


def _closed_form_margin(weight: float, bias: float) -> float:
    """E[x | x < 0] for x ~ N(bias, weight^2), or -3|weight| when P(x < 0) <= 0.001."""
    s, m = abs(weight), bias
    cdf = 0.5 * (1 + math.erf(-m / s / math.sqrt(2)))
    if cdf <= 1e-3:
        return -3 * s
    return m - s * math.exp(-(m / s)**2 / 2) / math.sqrt(2 * math.pi) / cdf


@pytest.fixture
def teacher() -> TinyNet:
    teacher = TinyNet()
    signs = torch.tensor([1., -1.]).repeat(8)
    with torch.no_grad():
        teacher.bn2.weight.copy_(torch.linspace(0.2, 2.0, 16) * signs)
        teacher.bn2.bias.copy_(torch.linspace(-2.0, 8.0, 16))
    return teacher


def test_ofd_margin_matches_closed_form_and_monte_carlo(teacher):
    distiller = MODELS.build(_ofd_cfg())
    distiller.init_ofd_connectors(teacher)
    margin = distiller.connectors['t_feat'].margin
    assert margin.shape == (1, 16, 1, 1)
    weight, bias = teacher.bn2.weight.tolist(), teacher.bn2.bias.tolist()
    expected = torch.tensor([_closed_form_margin(w, b) for w, b in zip(weight, bias)])
    assert torch.allclose(margin.flatten(), expected, atol=1e-5)
    assert expected[-1] == pytest.approx(-3 * abs(weight[-1]))  # bias 8, std 2: -3 std
    generator = torch.Generator().manual_seed(0)
    for channel in (0, 3, 5):
        samples = torch.randn(1_000_000, generator=generator) * abs(weight[channel]) \
            + bias[channel]
        negative_mean = samples[samples < 0].mean().item()
        assert margin.flatten()[channel].item() == pytest.approx(negative_mean, abs=0.01)


def test_ofd_distiller_forward_and_backward(teacher):
    student = TinyNet()
    distiller = MODELS.build(_ofd_cfg())
    distiller.init_ofd_connectors(teacher)
    distiller.prepare_from_student(student)
    distiller.prepare_from_teacher(teacher)
    x = torch.randn(2, 3, 8, 8)
    with distiller.teacher_recorders, torch.no_grad():
        teacher(x)
    with distiller.student_recorders:
        student(x)
    t_feat = distiller.get_record('feat', from_student=False, connector='t_feat')
    with torch.no_grad():
        bn_out = teacher.bn2(teacher.conv2(F.relu(teacher.bn1(teacher.conv1(x)))))
    assert torch.equal(t_feat, torch.max(bn_out, distiller.connectors['t_feat'].margin))
    distiller.compute_distill_losses()['loss_ofd'].backward()
    assert student.conv2.weight.grad is not None
    assert distiller.connectors['s_feat'].conv_module.conv.weight.grad is not None
    assert teacher.conv2.weight.grad is None


def test_ofd_distiller_needs_a_teacher_bn(teacher):
    distiller = MODELS.build(_ofd_cfg(teacher_source='conv2'))
    with pytest.raises(TypeError, match=r"'conv2' is a Conv2d, not an affine BN.*"
                                        r"BNs of the teacher like it: \['bn1', 'bn2'\]"):
        distiller.init_ofd_connectors(teacher)
    distiller = MODELS.build(_ofd_cfg(teacher_source='bn3'))
    with pytest.raises(KeyError, match="'bn3' is not a module of the teacher"):
        distiller.init_ofd_connectors(teacher)


def test_ofd_connector_is_untouched_on_the_student_side(teacher):
    cfg = _ofd_cfg()
    cfg['connectors']['s_feat'] = dict(type='OFDTeacherConnector')
    distiller = MODELS.build(cfg)
    distiller.init_ofd_connectors(teacher)
    assert distiller.connectors['s_feat'].margin is None
    assert isinstance(distiller.connectors['t_feat'], OFDTeacherConnector)
    assert distiller.connectors['t_feat'].margin is not None
