"""DataFreeDistillation and DAFLDataFreeDistillation on the Fashion-MNIST ResNets."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.runner import save_checkpoint

import mmrazor.models.architectures.generators  # noqa: F401  (registers generators)
from mmrazor.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

from ...kd_helpers import STUDENT_MODEL_CFG, TEACHER_MODEL_CFG, grey_batch


def _fc(source: str) -> dict:
    return dict(fc=dict(type='ModuleOutputs', source=source))


def _logits_distiller(loss: dict, student_arg: str, teacher_arg: str) -> dict:
    return dict(
        type='ConfigurableDistiller',
        student_recorders=_fc('head.fc'),
        teacher_recorders=_fc('res26.head.fc'),
        distill_losses=dict(loss_logits=loss),
        loss_forward_mappings=dict(loss_logits={
            student_arg: dict(from_student=True, recorder='fc'),
            teacher_arg: dict(from_student=False, recorder='fc')}))


DAFL_GENERATOR_DISTILLER = dict(
    type='ConfigurableDistiller',
    teacher_recorders=dict(
        fc=dict(type='ModuleOutputs', source='res26.head.fc'),
        feat=dict(type='ModuleInputs', source='res26.head.fc')),
    distill_losses=dict(
        loss_oh=dict(type='OnehotLikeLoss', loss_weight=0.05),
        loss_ie=dict(type='InformationEntropyLoss', loss_weight=5),
        loss_ac=dict(type='ActivationLoss', loss_weight=0.01)),
    loss_forward_mappings=dict(
        loss_oh=dict(preds_T=dict(from_student=False, recorder='fc')),
        loss_ie=dict(preds_T=dict(from_student=False, recorder='fc')),
        loss_ac=dict(feat_T=dict(from_student=False, recorder='feat', data_idx=0))))

ALGORITHMS = {
    'DataFreeDistillation': dict(
        distiller=_logits_distiller(dict(type='L1Loss'), 's_feature', 't_feature'),
        generator_distiller=_logits_distiller(dict(type='L1Loss', loss_weight=-1),
                                              's_feature', 't_feature')),
    'DAFLDataFreeDistillation': dict(
        distiller=_logits_distiller(dict(type='KLDivergence', tau=4), 'preds_S',
                                    'preds_T'),
        generator_distiller=DAFL_GENERATOR_DISTILLER),
}
LOG_VARS = {
    'DataFreeDistillation': {'generator.loss', 'generator.loss_logits', 'distill.loss',
                             'distill.loss_logits'},
    'DAFLDataFreeDistillation': {'generator.loss', 'generator.loss_oh',
                                 'generator.loss_ie', 'generator.loss_ac',
                                 'distill.loss', 'distill.loss_logits'},
}


def _algo(name: str = 'DataFreeDistillation', teacher: dict = None, **overrides):
    cfg = dict(
        type=name,
        architecture=dict(cfg_path=STUDENT_MODEL_CFG),
        teachers=dict(res26=teacher or dict(build_cfg=dict(cfg_path=TEACHER_MODEL_CFG))),
        generator=dict(type='DAFLGenerator', img_size=28, latent_dim=16,
                       hidden_channels=32, out_channels=1),
        **ALGORITHMS[name])
    cfg.update(overrides)
    algo = MODELS.build(cfg)
    algo.train()
    return algo


def _optim(algo, keys=('architecture', 'generator')):
    cfg = dict(architecture=dict(optimizer=dict(type='SGD', lr=0.1)),
               generator=dict(optimizer=dict(type='Adam', lr=1e-3)))
    return OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='SeparateOptimWrapperConstructor',
        optim_wrapper_cfg={key: cfg[key] for key in keys}))(algo)


def _snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.mark.parametrize('name', list(ALGORITHMS))
def test_train_step_updates_student_and_generator_only(name):
    algo = _algo(name)
    assert not algo.teachers.res26.training and algo.student.training
    teacher, student, generator = (_snapshot(m) for m in
                                   (algo.teachers, algo.student, algo.generator))
    log_vars = algo.train_step(grey_batch(), _optim(algo))
    assert set(log_vars) == LOG_VARS[name]
    assert all(torch.isfinite(v) and not v.requires_grad for v in log_vars.values())
    for key, value in algo.teachers.state_dict().items():  # BN stats included
        assert torch.equal(value, teacher[key]), key
    assert not torch.equal(student['head.fc.weight'], algo.student.head.fc.weight)
    assert not torch.equal(generator['linear.weight'], algo.generator.linear.weight)
    assert not any(p.requires_grad for p in algo.teachers.parameters())
    assert all(p.requires_grad for p in algo.student.parameters())


def test_each_phase_only_gives_gradients_to_its_own_parameters():
    algo = _algo()
    optim, batch = _optim(algo), grey_batch()
    student = _snapshot(algo.student)
    algo.train_generator(batch, optim)
    assert all(p.grad is None for p in algo.student.parameters())
    for key in ('head.fc.weight', 'backbone.conv1.weight'):
        assert torch.equal(algo.student.state_dict()[key], student[key])
    generator = _snapshot(algo.generator)
    algo.train_student(batch, optim)
    assert all(p.grad is None for p in algo.generator.parameters())
    assert torch.equal(algo.generator.linear.weight, generator['linear.weight'])


def test_student_iter_and_order(monkeypatch):
    algo = _algo(student_iter=2, student_train_first=True)
    calls = []
    for phase in ('train_generator', 'distill_student'):
        original = getattr(algo, phase)
        monkeypatch.setattr(algo, phase, lambda *args, _f=original, _n=phase:
                            calls.append(_n) or _f(*args))
    algo.train_step(grey_batch(), _optim(algo))
    assert calls == ['distill_student', 'distill_student', 'train_generator']
    with pytest.raises(ValueError, match='student_iter'):
        _algo(student_iter=0)


def test_missing_optim_wrapper_key_is_reported():
    algo = _algo('DAFLDataFreeDistillation')
    with pytest.raises(KeyError, match=r"\['generator'\] is missing"):
        algo.train_step(grey_batch(), _optim(algo, keys=('architecture', )))
    plain = OptimWrapper(torch.optim.SGD(algo.student.parameters(), lr=0.1))
    with pytest.raises(KeyError, match='SeparateOptimWrapperConstructor'):
        algo.train_step(grey_batch(), plain)


def test_val_modes_run_the_student():
    algo = _algo()
    algo.eval()
    data = algo.data_preprocessor(grey_batch(), False)
    predictions = algo(**data, mode='predict')
    assert len(predictions) == 4 and predictions[0].pred_score.shape == (10, )
    assert algo(**data, mode='tensor').shape == (4, 10)
    assert set(algo(**data, mode='loss')) == {'loss'}
    assert not algo.teachers.res26.training


def test_teacher_checkpoint_and_config_errors(tmp_path):
    donor = MODELS.build(dict(cfg_path=TEACHER_MODEL_CFG))
    path = str(tmp_path / 'teacher.pth')
    save_checkpoint({'state_dict': donor.state_dict()}, path)
    algo = _algo(teacher=dict(build_cfg=dict(cfg_path=TEACHER_MODEL_CFG), ckpt_path=path))
    algo.init_weights()  # the Runner calls this: the loaded teacher must survive it
    for key, value in donor.state_dict().items():
        assert torch.equal(value, algo.teachers.res26.state_dict()[key]), key
    build_cfg = dict(cfg_path=TEACHER_MODEL_CFG)
    with pytest.raises(ValueError, match='trainable must be False'):
        _algo(teacher=dict(build_cfg=build_cfg, trainable=True))
    with pytest.raises(KeyError, match='needs "build_cfg"'):
        _algo(teacher=dict(build_cfg=build_cfg, ckpt=path))


@pytest.mark.parametrize('student_train_first', [False, True])
def test_dafl_student_train_first_orders_the_updates(student_train_first):
    """Generator first (DAFL): the student learns twice on the batch the generator was
    just updated on. Student first: it learns on fresh batches of the generator before
    its update, and the generator is then updated on a batch of its own."""
    algo = _algo('DAFLDataFreeDistillation', student_iter=2,
                 student_train_first=student_train_first)
    initial = algo.generator.linear.weight.detach().clone()
    generated, student_runs = [], []
    algo.generator.register_forward_hook(
        lambda module, args, out: generated.append(out.detach().clone()))
    algo.student.register_forward_pre_hook(lambda module, args: student_runs.append(
        (torch.equal(algo.generator.linear.weight, initial), args[0].detach().clone())))
    algo.train_step(grey_batch(), _optim(algo))
    assert not torch.equal(algo.generator.linear.weight, initial)
    generator_was_initial = [before for before, _ in student_runs]
    student_inputs = [images for _, images in student_runs]
    if student_train_first:
        assert generator_was_initial == [True, True] and len(generated) == 3
        assert all(torch.equal(x, y) for x, y in zip(student_inputs, generated[:2]))
        assert not torch.equal(generated[0], generated[1])
    else:
        assert generator_was_initial == [False, False] and len(generated) == 1
        assert all(torch.equal(x, generated[0]) for x in student_inputs)
