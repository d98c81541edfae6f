"""ConfigurableDistiller on real mmpretrain student/teacher models."""
import pytest
import torch
import torch.nn.functional as F

from mmrazor.registry import MODELS

from ...kd_helpers import STUDENT_MODEL_CFG, TEACHER_MODEL_CFG


def _distiller(**overrides):
    cfg = dict(
        type='ConfigurableDistiller',
        student_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc'),
                               feat=dict(type='ModuleOutputs', source='backbone.layer3')),
        teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc'),
                               feat=dict(type='ModuleOutputs', source='backbone.layer3')),
        connectors=dict(adapt=dict(type='TorchNNConnector', module_name='Conv2d',
                                   module_args=dict(in_channels=64, out_channels=128,
                                                    kernel_size=1))),
        distill_losses=dict(loss_kl=dict(type='KLDivergence', tau=2),
                            loss_feat=dict(type='L2Loss', normalize=False)),
        loss_forward_mappings=dict(
            loss_kl=dict(preds_S=dict(from_student=True, recorder='fc'),
                         preds_T=dict(from_student=False, recorder='fc')),
            loss_feat=dict(s_feature=dict(from_student=True, recorder='feat',
                                          connector='adapt'),
                           t_feature=dict(from_student=False, recorder='feat'))))
    cfg.update(overrides)
    return MODELS.build(cfg)


@pytest.fixture(scope='module')
def models():
    student = MODELS.build(dict(cfg_path=STUDENT_MODEL_CFG))
    teacher = MODELS.build(dict(cfg_path=TEACHER_MODEL_CFG))
    return student, teacher


def test_losses_match_a_direct_computation(models):
    student, teacher = models
    distiller = _distiller()
    distiller.prepare_from_student(student)
    distiller.prepare_from_teacher(teacher)
    x = torch.randn(3, 1, 28, 28)
    with distiller.teacher_recorders, torch.no_grad():
        t_logits = teacher(x, mode='tensor')
    with distiller.student_recorders:
        s_logits = student(x, mode='tensor')
    losses = distiller.compute_distill_losses()
    expected_kl = 4 * F.kl_div(F.log_softmax(s_logits / 2, 1), F.softmax(t_logits / 2, 1),
                               reduction='batchmean')
    assert torch.allclose(losses['loss_kl'], expected_kl, atol=1e-6)
    s_feat = student.backbone(x)[-1]
    t_feat = teacher.backbone(x)[-1].detach()
    expected_l2 = (distiller.connectors['adapt'](s_feat) - t_feat).pow(2).sum() / 3
    assert torch.allclose(losses['loss_feat'], expected_l2, rtol=1e-4)
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in distiller.connectors['adapt'].parameters())
    assert student.head.fc.weight.grad is not None
    assert teacher.head.fc.weight.grad is None


@pytest.mark.parametrize('override, message', [
    (dict(loss_forward_mappings=dict(loss_kl=dict(
        preds_S=dict(from_student=True, recorder='logits'),
        preds_T=dict(from_student=False, recorder='fc')))),
     r"student recorder 'logits', which does not exist; student recorders: \['fc', 'feat'\]"),
    (dict(loss_forward_mappings=dict(loss_kl=dict(
        preds_s=dict(from_student=True, recorder='fc'),
        preds_T=dict(from_student=False, recorder='fc')))),
     r"KLDivergence.forward has no argument 'preds_s' \(did you mean 'preds_S'\?\)"),
    (dict(loss_forward_mappings=dict(loss_kl=dict(
        preds_T=dict(from_student=False, recorder='fc')))),
     r"does not map the required argument\(s\) \['preds_S'\] of KLDivergence.forward"),
    (dict(loss_forward_mappings=dict(loss_feat=dict(
        s_feature=dict(from_student=True, recorder='feat', connector='adaptor'),
        t_feature=dict(from_student=False, recorder='feat')))),
     r"connector 'adaptor', which does not exist \(did you mean 'adapt'\?\)"),
    (dict(loss_forward_mappings=dict(loss_kl=dict(
        preds_S=dict(from_student=True, recoder='fc'),
        preds_T=dict(from_student=False, recorder='fc')))),
     r"unknown key\(s\) \['recoder'\] \(did you mean 'recorder'\?\)"),
    (dict(loss_forward_mappings=dict(loss_k1=dict())),
     r"'loss_k1', which is not a distill loss \(did you mean 'loss_kl'\?\)"),
    (dict(loss_forward_mappings=dict(loss_kl=dict(
        preds_S=dict(recorder='fc'), preds_T=dict(from_student=False, recorder='fc')))),
     r'needs "recorder" \(a recorder name\) and "from_student"'),
])
def test_bad_mappings_fail_at_build_time(override, message):
    with pytest.raises(KeyError, match=message):
        _distiller(**override)


def test_loss_names_must_contain_loss():
    with pytest.raises(ValueError, match='must contain "loss"'):
        _distiller(distill_losses=dict(kl=dict(type='KLDivergence')),
                   loss_forward_mappings=dict())


def test_recorder_source_is_checked_against_the_model(models):
    student, _ = models
    distiller = _distiller(student_recorders=dict(
        fc=dict(type='ModuleOutputs', source='head.fcc'),
        feat=dict(type='ModuleOutputs', source='backbone.layer3')))
    with pytest.raises(KeyError, match='head.fc'):
        distiller.prepare_from_student(student)
