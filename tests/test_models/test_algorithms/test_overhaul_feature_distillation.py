"""OverhaulFeatureDistillation on the Fashion-MNIST ResNets: the margins come from the
loaded teacher's BN, and a student whose pre-ReLU features equal the teacher's has a
zero OFD loss."""
from typing import Optional

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.runner import save_checkpoint

from mmrazor.registry import MODELS

from ...kd_helpers import STUDENT_MODEL_CFG, TEACHER_MODEL_CFG, grey_batch
from ..test_distillers.test_byot_ofd_distillers import _closed_form_margin

BN = 'backbone.layer3.1.bn2'  # the pre-ReLU output of the last block (128 channels)


def _distiller(student_connector: Optional[dict] = None) -> dict:
    s_feature = dict(from_student=True, recorder='feat')
    connectors = dict(t_feat=dict(type='OFDTeacherConnector'))
    if student_connector:
        connectors['s_feat'] = student_connector
        s_feature['connector'] = 's_feat'
    return dict(
        type='OFDDistiller',
        student_recorders=dict(feat=dict(type='ModuleOutputs', source=BN)),
        teacher_recorders=dict(feat=dict(type='ModuleOutputs', source=BN)),
        connectors=connectors,
        distill_losses=dict(loss_ofd=dict(type='OFDLoss', loss_weight=1.0)),
        loss_forward_mappings=dict(loss_ofd=dict(
            s_feature=s_feature,
            t_feature=dict(from_student=False, recorder='feat', connector='t_feat'))))


@pytest.fixture
def teacher_ckpt(tmp_path):
    """A teacher whose BN has known affine parameters, saved to disk."""
    torch.manual_seed(1)
    teacher = MODELS.build(dict(cfg_path=TEACHER_MODEL_CFG))
    bn = teacher.get_submodule(BN)
    with torch.no_grad():
        bn.weight.copy_(torch.linspace(0.2, 2.0, 128))
        bn.bias.copy_(torch.linspace(-2.0, 8.0, 128))
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    path = str(tmp_path / 'teacher.pth')
    save_checkpoint({'state_dict': teacher.state_dict()}, path)
    return teacher, path


def _algo(teacher_ckpt: str, student_cfg: str = STUDENT_MODEL_CFG,
          **distiller) -> torch.nn.Module:
    return MODELS.build(dict(
        type='OverhaulFeatureDistillation', architecture=dict(cfg_path=student_cfg),
        teacher=dict(cfg_path=TEACHER_MODEL_CFG), teacher_ckpt=teacher_ckpt,
        distiller=_distiller(**distiller)))


def test_margins_come_from_the_loaded_teacher_bn(teacher_ckpt):
    teacher, path = teacher_ckpt
    algo = _algo(path, student_connector=dict(
        type='ConvModuleConnector', in_channel=64, out_channel=128,
        norm_cfg=dict(type='BN'), act_cfg=None))
    bn = teacher.get_submodule(BN)
    expected = [_closed_form_margin(w, b) for w, b in zip(bn.weight.tolist(),
                                                          bn.bias.tolist())]
    margin = algo.distiller.connectors['t_feat'].margin
    assert margin.shape == (1, 128, 1, 1)
    assert torch.allclose(margin.flatten(), torch.tensor(expected), atol=1e-5)
    # a train step trains the student and its connector against the frozen teacher
    algo.train()
    teacher_before = {k: v.clone() for k, v in algo.teacher.state_dict().items()}
    student_fc = algo.student.head.fc.weight.detach().clone()
    connector = algo.distiller.connectors['s_feat'].conv_module.conv.weight.detach().clone()
    optim = OptimWrapper(torch.optim.SGD(
        [p for p in algo.parameters() if p.requires_grad], lr=0.01))
    log_vars = algo.train_step(grey_batch(), optim)
    assert log_vars['distill.loss_ofd'] > 0
    assert not torch.equal(student_fc, algo.student.head.fc.weight)
    assert not torch.equal(connector, algo.distiller.connectors['s_feat'].conv_module.conv.weight)
    for key, value in algo.teacher.state_dict().items():
        assert torch.equal(value, teacher_before[key]), key


def test_loss_is_zero_when_the_student_feature_equals_the_teacher(teacher_ckpt):
    """max(t, margin) is what the student is pulled to; below a negative margin a
    student feature at or under the teacher's is not penalized, so a student equal to
    the teacher has loss 0, and one shifted above it does not."""
    teacher, path = teacher_ckpt
    algo = _algo(path, student_cfg=TEACHER_MODEL_CFG)
    algo.student.load_state_dict(teacher.state_dict())
    algo.eval()  # both BNs use their (equal) running statistics
    data = algo.data_preprocessor(grey_batch(), True)
    losses = algo(**data, mode='loss')
    t_feat = algo.distiller.get_record('feat', from_student=False)
    margin = algo.distiller.connectors['t_feat'].margin
    assert (t_feat < margin).any() and (t_feat > margin).any()  # both branches occur
    assert losses['distill.loss_ofd'].item() == 0
    with torch.no_grad():
        algo.student.get_submodule(BN).bias.add_(0.1)
    assert algo(**data, mode='loss')['distill.loss_ofd'].item() > 0
