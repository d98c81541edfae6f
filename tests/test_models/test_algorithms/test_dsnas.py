"""DSNAS on a small ShuffleNetV2 space of MMRazor's one-hot ops: a step trains the sampled
candidates' weights only and moves each architecture parameter by DSNAS's estimator
(one-hot credit times the sampled log-probability's gradient); the pretrain stage
leaves the architecture alone and the finetune stage fixes the most likely subnet; the
FLOPs table sums to the counted FLOPs of every subnet; over budget the FLOPs loss is
added; bad stages and ops are refused."""
import copy
import random
from typing import Dict

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmrazor.models import DSNAS
from mmrazor.models.mutables import OneHotMutableOP
from mmrazor.models.task_modules.estimators import get_model_flops_params
from mmrazor.registry import MODELS
from mmrazor.structures import load_fix_subnet

from ...conftest import REPO_ROOT
from ...kd_helpers import grey_batch
from ..test_architectures.test_searchable_shufflenet import one_thread  # noqa: F401
from .test_darts import darts_classifier

SPACE = f'{REPO_ROOT}/configs/_base_/nas_backbones/dsnas_shufflenet_supernet.py'
# plain FLOPs counts of 32x32 inputs, so the table is compared exactly
ESTIMATOR = dict(input_shape=(1, 3, 32, 32), units=dict(flops=None, params=None))


def supernet() -> dict:
    """MMRazor's DSNAS op in two short stages."""
    space = Config.fromfile(SPACE)
    mutable = space.arch_setting[0][2].to_dict()
    backbone = dict(space.nas_backbone.to_dict(),
                    arch_setting=[[16, 2, mutable], [32, 2, mutable]], out_indices=(2, ))
    return dict(_scope_='mmpretrain', type='ImageClassifier',
                data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=10,
                                       mean=[72.94] * 3, std=[90.02] * 3),
                backbone=backbone, neck=dict(type='GlobalAveragePooling'),
                head=dict(type='LinearClsHead', num_classes=10, in_channels=1024))


def dsnas(**kwargs) -> DSNAS:
    torch.manual_seed(0)
    kwargs.setdefault('estimator_cfg', ESTIMATOR)
    return MODELS.build(dict(type='mmrazor.DSNAS', architecture=supernet(), **kwargs))


def optimizers(algo: DSNAS) -> OptimWrapperDict:
    return OptimWrapperDict(
        architecture=OptimWrapper(torch.optim.SGD(algo.architecture.parameters(), lr=0.1,
                                                  momentum=0.9, weight_decay=1e-4)),
        mutator=OptimWrapper(torch.optim.SGD(algo.mutator.parameters(), lr=1.0)))


def at_epoch(epoch: int) -> None:
    MessageHub.get_instance(f'dsnas_epoch_{epoch}_{random.random()}').update_info(
        'epoch', epoch)


def ops(algo: DSNAS) -> Dict[str, OneHotMutableOP]:
    return {name: m for name, m in algo.architecture.named_modules()
            if isinstance(m, OneHotMutableOP)}


def test_step_trains_sampled_weights_and_the_architecture_by_dsnas_gradient():
    algo = dsnas(flops_constraints=1e12)  # no FLOPs loss
    at_epoch(0)
    weights = {k: v.clone() for k, v in algo.architecture.state_dict().items()}
    arch = {k: v.detach().clone() for k, v in algo.mutator.arch_params.items()}
    log_vars = algo.train_step(grey_batch(), optimizers(algo))
    assert set(log_vars) == {'supernet.loss', 'mutator.arch_loss', 'mutator.loss'}

    changed = {k for k, v in algo.architecture.state_dict().items()
               if not torch.equal(v, weights[k])}
    key_of = {id(m): key for key, group in algo.mutator.search_groups.items() for m in group}
    for name, op in ops(algo).items():
        index = int(op.arch_weights.argmax())
        sampled = op.choices[index]
        trained = {k.split('._candidates.')[1].split('.')[0] for k in changed
                   if k.startswith(f'{name}._candidates.')}
        assert trained == {sampled}, name
        # DSNAS: d alpha = credit * d log p_sampled = credit * (onehot - p); lr 1
        key = key_of[id(op)]
        credit = op.arch_weights.grad[index]
        expected = arch[key] - credit * (F.one_hot(torch.tensor(index), 4) -
                                         F.softmax(arch[key], -1))
        assert torch.allclose(algo.mutator.arch_params[key], expected, atol=1e-6)
    assert not torch.equal(algo.mutator.arch_params['module_0'], arch['module_0'])


def test_pretrain_leaves_the_architecture_and_finetune_fixes_the_likely_subnet():
    algo = dsnas(pretrain_epochs=1, finetune_epochs=2)
    optim = optimizers(algo)
    arch = {k: v.detach().clone() for k, v in algo.mutator.arch_params.items()}
    at_epoch(0)
    log_vars = algo.train_step(grey_batch(), optim)
    assert 'mutator.arch_loss' not in log_vars
    assert all(torch.equal(v, arch[k]) for k, v in algo.mutator.arch_params.items())

    likely = {key: group[0].choices[int(arch[key].argmax())]
              for key, group in algo.mutator.search_groups.items()}
    at_epoch(2)
    algo.train_step(grey_batch(), optim)
    assert not algo.is_supernet
    assert algo.mutator.current_choices == likely
    assert all(m.is_fixed and len(m.choices) == 1 for m in ops(algo).values())
    assert all(torch.equal(v, arch[k]) for k, v in algo.mutator.arch_params.items())


def test_flops_table_equals_counted_flops_of_every_subnet():
    algo = dsnas()
    table = algo.cost_table
    random.seed(0)
    for _ in range(3):
        chosen = {name: random.choice(op.choices) for name, op in ops(algo).items()}
        subnet = copy.deepcopy(algo.architecture)
        load_fix_subnet(subnet, {name: dict(chosen=c) for name, c in chosen.items()})
        flops, _ = get_model_flops_params(subnet, input_shape=(1, 3, 32, 32), units=None)
        assert table.flops(chosen) == flops


def test_flops_loss_is_added_while_the_likely_subnet_is_over_budget():
    algo = dsnas(flops_constraints=1.0)
    at_epoch(0)
    probs = {key: F.softmax(p.detach(), -1) for key, p in algo.mutator.arch_params.items()}
    log_vars = algo.train_step(grey_batch(), optimizers(algo))
    key_of = {id(m): key for key, group in algo.mutator.search_groups.items() for m in group}
    expected = 0.01 * sum(
        probs[key_of[id(op)]][int(op.arch_weights.argmax())]
        * algo.cost_table.ops[name][op.choices[int(op.arch_weights.argmax())]]
        for name, op in ops(algo).items())
    assert torch.isclose(log_vars['mutator.flops_loss'], expected.float(), rtol=1e-5)
    within_budget = dsnas(flops_constraints=1e12)
    assert 'mutator.flops_loss' not in within_budget.train_step(
        grey_batch(), optimizers(within_budget))


def test_bad_stages_and_ops_are_refused():
    with pytest.raises(ValueError, match=r'pretrain_epochs \(80\) must be < finetune_epochs '
                                         r'\(80\)'):
        dsnas(pretrain_epochs=80)
    with pytest.raises(TypeError, match=r"must be OneHotMutableOPs, got \['DiffChoiceRoute', "
                                        r"'DiffMutableOP'\]"):
        MODELS.build(dict(type='mmrazor.DSNAS', architecture=darts_classifier()))
