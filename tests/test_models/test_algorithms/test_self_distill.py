"""SelfDistill (BYOT) on the Fashion-MNIST student ResNet: the deepest layers teach a
shallow classifier attached to stage 1, over several real train steps."""
from typing import Dict, Optional, Set

import pytest
import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mmrazor.registry import MODELS

from ...kd_helpers import STUDENT_MODEL_CFG, grey_batch

# the output of stage 1's last block: its relu runs twice, the second call is the output
STAGE1 = dict(recorder='stage1', from_student=True, record_idx=1, connector='byot')
DISTILLER = dict(
    type='BYOTDistiller',
    student_recorders=dict(stage1=dict(type='ModuleOutputs', source='backbone.layer1.1.relu')),
    teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc'),
                           neck=dict(type='ModuleOutputs', source='neck')),
    connectors=dict(byot=dict(type='BYOTConnector', in_channel=16, out_channel=64,
                              num_classes=10, expansion=1, stride=2, pool_size=7)),
    distill_losses=dict(
        loss_softl=dict(type='KLDivergence', tau=3, loss_weight=0.3),
        loss_fet=dict(type='L2Loss', normalize=False, dist=True, loss_weight=0.03)),
    loss_forward_mappings=dict(
        loss_softl=dict(preds_S=dict(**STAGE1, connector_idx=1),
                        preds_T=dict(recorder='fc', from_student=False)),
        loss_fet=dict(s_feature=dict(**STAGE1, connector_idx=0),
                      t_feature=dict(recorder='neck', from_student=False, data_idx=0))))
# an MMRazor 1.x config may carry deliveries; here the head's pre_logits is patched
DELIVERIES = dict(pre_logits=dict(
    type='MethodOutputs', method_path='mmpretrain.models.heads.LinearClsHead.pre_logits'))


def _algo(distill_deliveries: Optional[dict] = None, **overrides) -> nn.Module:
    torch.manual_seed(0)
    algo = MODELS.build(dict(
        type='SelfDistill', architecture=dict(cfg_path=STUDENT_MODEL_CFG),
        distiller=dict(DISTILLER, distill_deliveries=distill_deliveries), **overrides))
    algo.train()
    return algo


def _optim(algo: nn.Module) -> OptimWrapper:
    return OptimWrapper(torch.optim.SGD(
        [p for p in algo.parameters() if p.requires_grad], lr=0.1))


def _snapshot(module: nn.Module) -> Dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def _changed(module: nn.Module, before: Dict[str, torch.Tensor]) -> Set[str]:
    return {k for k, v in module.named_parameters() if not torch.equal(v, before[k])}


def test_distill_losses_train_the_shallow_layers_and_the_connector_only():
    algo = _algo(calculate_student_loss=False)
    student, connector = _snapshot(algo.student), _snapshot(algo.distiller.connectors)
    log_vars = algo.train_step(grey_batch(), _optim(algo))
    assert set(log_vars) == {'loss', 'distill.loss_softl', 'distill.loss_fet'}
    changed = _changed(algo.student, student)
    # the deep ("teacher") side is detached: stages 2-3 and the head get no gradient
    assert changed and all(k.startswith(('backbone.conv1', 'backbone.bn1',
                                         'backbone.layer1.')) for k in changed), changed
    assert 'backbone.layer1.1.conv2.weight' in changed
    assert {'byot.fc.weight', 'byot.scala.0.0.weight'} <= _changed(algo.distiller.connectors,
                                                                 connector)


def test_student_loss_trains_the_whole_network():
    algo = _algo()
    student = _snapshot(algo.student)
    log_vars = algo.train_step(grey_batch(), _optim(algo))
    assert {'student.loss', 'distill.loss_softl', 'distill.loss_fet'} <= set(log_vars)
    assert {'head.fc.weight', 'backbone.layer3.1.conv2.weight'} <= _changed(algo.student,
                                                                            student)


def test_student_trainable_false_trains_the_connector_only():
    algo = _algo(student_trainable=False, calculate_student_loss=False)
    student, connector = _snapshot(algo.student), _snapshot(algo.distiller.connectors)
    algo.train_step(grey_batch(), _optim(algo))
    assert _changed(algo.student, student) == set()
    assert {'byot.fc.weight', 'byot.scala.0.0.weight'} <= _changed(algo.distiller.connectors,
                                                                 connector)


def test_distill_deliveries_run_over_several_train_steps():
    """One forward is the teacher and the student run: the delivered method runs once
    per step, with its real output, and training goes on (MMRazor 1.x failed here)."""
    algo, plain = _algo(DELIVERIES), _algo()
    calls = []
    algo.student.head.register_forward_hook(lambda *_: calls.append(1))
    optim, plain_optim = _optim(algo), _optim(plain)
    for step in range(3):
        batch = grey_batch(4 + step)
        log_vars = algo.train_step(batch, optim)
        plain_vars = plain.train_step(batch, plain_optim)
        for key, value in plain_vars.items():  # the same training as without deliveries
            assert log_vars[key].item() == pytest.approx(value.item(), rel=1e-5), key
    assert len(calls) == 3
    assert all(len(d.data_queue) == 0 for d in algo.distiller.deliveries.deliveries.values())
