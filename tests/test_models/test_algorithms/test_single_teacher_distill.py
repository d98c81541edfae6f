"""SingleTeacherDistill with the Fashion-MNIST configs: train steps, flags, teacher ckpt."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.runner import save_checkpoint

from mmrazor.registry import MODELS

from ...kd_helpers import DKD_CONFIG, FITNETS_CONFIG, KD_CONFIG, grey_batch, kd_model_cfg


def _step(algo, batch=None):
    optim = OptimWrapper(torch.optim.SGD(
        [p for p in algo.parameters() if p.requires_grad], lr=0.05))
    return algo.train_step(batch or grey_batch(), optim)


@pytest.mark.parametrize('config, distill_keys', [
    (KD_CONFIG, {'distill.loss_kl'}),
    (DKD_CONFIG, {'distill.loss_dkd'}),
    (FITNETS_CONFIG, {'distill.loss_s3', 'distill.loss_kl'}),
])
def test_fashion_mnist_configs_train_step(config, distill_keys):
    algo = MODELS.build(kd_model_cfg(config))
    algo.train()
    teacher_before = {k: v.clone() for k, v in algo.teacher.state_dict().items()}
    student_before = algo.student.head.fc.weight.detach().clone()
    log_vars = _step(algo)
    assert distill_keys | {'student.loss'} <= set(log_vars)
    assert all(torch.isfinite(torch.as_tensor(v)) for v in log_vars.values())
    assert not torch.equal(student_before, algo.student.head.fc.weight)
    for key, value in algo.teacher.state_dict().items():  # frozen, BN stats included
        assert torch.equal(value, teacher_before[key]), key


def test_teacher_is_frozen_and_norm_eval():
    algo = MODELS.build(kd_model_cfg())
    algo.train()
    assert not any(p.requires_grad for p in algo.teacher.parameters())
    assert not algo.teacher.backbone.bn1.training
    assert algo.student.backbone.bn1.training


@pytest.mark.parametrize('norm_eval', [True, False])
def test_teacher_norm_eval_holds_from_construction(norm_eval):
    # a built module is in train mode: a step before any train() call follows the flag
    algo = MODELS.build(kd_model_cfg(teacher_norm_eval=norm_eval))
    assert algo.training and algo.teacher.backbone.bn1.training is not norm_eval
    before = algo.teacher.backbone.bn1.running_mean.clone()
    _step(algo)
    assert torch.equal(algo.teacher.backbone.bn1.running_mean, before) is norm_eval
    algo.eval()
    assert not algo.teacher.backbone.bn1.training


def test_flags_change_the_losses():
    algo = MODELS.build(kd_model_cfg(calculate_student_loss=False, teacher_trainable=True))
    algo.train()
    assert set(_step(algo)) == {'teacher.loss', 'distill.loss_kl', 'loss'}
    algo.distillation_stopped.fill_(True)
    assert 'distill.loss_kl' not in algo(**algo.data_preprocessor(grey_batch(), True),
                                         mode='loss')


def test_teacher_ckpt_is_loaded(tmp_path):
    donor = MODELS.build(kd_model_cfg())
    path = str(tmp_path / 'teacher.pth')
    save_checkpoint({'state_dict': donor.teacher.state_dict()}, path)
    algo = MODELS.build(kd_model_cfg(teacher_ckpt=path))
    for key, value in donor.teacher.state_dict().items():
        assert torch.equal(value, algo.teacher.state_dict()[key]), key
    algo.init_weights()  # the Runner calls this: the loaded teacher must survive it
    assert torch.equal(donor.teacher.head.fc.weight, algo.teacher.head.fc.weight)


def test_teacher_ckpt_mismatch_reports_keys(tmp_path):
    donor = MODELS.build(kd_model_cfg())
    path = str(tmp_path / 'student_as_teacher.pth')
    save_checkpoint({'state_dict': donor.student.state_dict()}, path)
    with pytest.raises(RuntimeError, match='size mismatch'):
        MODELS.build(kd_model_cfg(teacher_ckpt=path))
    algo_path = str(tmp_path / 'algorithm.pth')
    save_checkpoint({'state_dict': donor.state_dict()}, algo_path)
    with pytest.raises(KeyError, match=r'missing key\(s\).*unexpected key\(s\).*'
                       'convert_kd_ckpt_to_student'):
        MODELS.build(kd_model_cfg(teacher_ckpt=algo_path))


@pytest.mark.parametrize('ckpt, error', [
    ('/no/such/teacher.pth', FileNotFoundError),
    ('https://download.openmmlab.com/x.pth', FileNotFoundError),  # not cached
])
def test_teacher_ckpt_bad_paths(ckpt, error):
    with pytest.raises(error, match='teacher_ckpt'):
        MODELS.build(kd_model_cfg(teacher_ckpt=ckpt))


def test_bad_teacher_type():
    with pytest.raises(TypeError, match='teacher should be a config dict or an nn.Module'):
        MODELS.build(kd_model_cfg(teacher='resnet34'))
