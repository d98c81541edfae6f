"""DARTS: a first-order step moves the architecture parameters by the mutator batch's
gradient and then the weights by the train batch's (each only its own, checked against
autograd in float64); the second-order step differs from it and its architecture
gradient matches a numerical derivative of the unrolled validation loss; the derived
subnet (largest architecture parameters) exports and loads into an equal static model;
bad optimizers and batches are refused."""
import copy
from typing import Dict, List, Tuple

import pytest
import torch
import torch.nn as nn
import yaml
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmrazor.models import Darts
from mmrazor.models.mutables import DiffMutableOP
from mmrazor.models.wrappers import AlgorithmDDP
from mmrazor.registry import MODEL_WRAPPERS, MODELS
from mmrazor.structures import export_fix_subnet, load_fix_subnet

from ..test_architectures.test_darts_backbone import OPS, darts_backbone
from ..test_architectures.test_searchable_shufflenet import one_thread  # noqa: F401


class TinySupernet(BaseModel):
    """Two mixed ops of smooth candidates and a linear readout, regressing targets:
    deterministic, so losses are exact functions of weights and architecture."""

    def __init__(self) -> None:
        super().__init__()
        self.op1 = DiffMutableOP(dict(
            conv3=nn.Sequential(nn.Conv2d(2, 2, 3, padding=1), nn.Tanh()),
            conv1=nn.Sequential(nn.Conv2d(2, 2, 1), nn.Tanh()), skip=nn.Identity()))
        self.op2 = DiffMutableOP(dict(
            conv3=nn.Sequential(nn.Conv2d(2, 2, 3, padding=1), nn.Tanh()),
            conv1=nn.Sequential(nn.Conv2d(2, 2, 1), nn.Tanh())))
        self.head = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.head(self.op2(self.op1(inputs)).mean((2, 3)))
        if mode == 'loss':
            return dict(loss=((out - data_samples) ** 2).mean())
        return out


def tiny_darts(unroll: bool) -> Darts:
    torch.manual_seed(0)
    algo = Darts(TinySupernet(), unroll=unroll).double()
    with torch.no_grad():  # architecture parameters far from uniform: larger gradients
        for param in algo.mutator.arch_params.values():
            param.normal_()
    return algo


def batch(seed: int) -> Dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return dict(inputs=torch.randn(4, 2, 5, 5, generator=generator, dtype=torch.float64),
                data_samples=torch.randn(4, 1, generator=generator, dtype=torch.float64))


def optimizers(algo: Darts, lr: float = 0.1, arch_lr: float = 0.5,
               **sgd) -> OptimWrapperDict:
    return OptimWrapperDict(
        architecture=OptimWrapper(torch.optim.SGD(algo.architecture.parameters(), lr=lr,
                                                  **sgd)),
        mutator=OptimWrapper(torch.optim.SGD(algo.mutator.parameters(), lr=arch_lr)))


def params(algo: Darts) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
    return ([p.detach().clone() for p in algo.architecture.parameters()],
            [p.detach().clone() for p in algo.mutator.arch_params.values()])


def grads(algo: Darts, data: dict, of: List[torch.Tensor]) -> List[torch.Tensor]:
    loss, _ = algo._losses(data)
    return list(torch.autograd.grad(loss, of, allow_unused=True))


def test_first_order_step_uses_each_split_for_its_own_parameters():
    algo = tiny_darts(unroll=False)
    reference = copy.deepcopy(algo)
    train, val = batch(1), batch(2)
    log_vars = algo.train_step((train, val), optimizers(algo))
    assert set(log_vars) == {'mutator.loss', 'supernet.loss'}

    # architecture: minus lr times d L_val / d alpha at the starting weights
    ref_arch = list(reference.mutator.arch_params.values())
    ref_weights = list(reference.architecture.parameters())
    arch_grads = grads(reference, val, ref_arch)
    with torch.no_grad():
        for param, grad in zip(ref_arch, arch_grads):
            param -= 0.5 * grad
    # then the weights: minus lr times d L_train / d w at the new architecture
    expected = [w - 0.1 * (0 if g is None else g)
                for w, g in zip(ref_weights, grads(reference, train, ref_weights))]
    weights, arch = params(algo)
    assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(arch, ref_arch))
    assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(weights, expected))
    # no gradient is left for the next step to mix in
    assert all(p.grad is None or not p.grad.any() for p in algo.parameters())


def unrolled_val_loss(algo: Darts, train: dict, val: dict, lr: float,
                      weight_decay: float) -> torch.Tensor:
    """L_val(w - lr * (d L_train / d w + weight_decay * w), alpha), differentiable in
    nothing: the function whose alpha-derivative second-order DARTS approximates."""
    model = copy.deepcopy(algo)
    weights = list(model.architecture.parameters())
    step = grads(model, train, weights)
    with torch.no_grad():
        for w, g in zip(weights, step):
            w -= lr * ((0 if g is None else g) + weight_decay * w)
        return model._losses(val)[0]


def test_second_order_gradient_matches_the_numerical_derivative():
    lr, weight_decay = 0.5, 1e-3
    algo = tiny_darts(unroll=True)
    first_order = tiny_darts(unroll=False)
    start = copy.deepcopy(algo)
    train, val = batch(1), batch(2)
    # mutator lr 1 and no momentum: the step is minus the gradient
    algo.train_step((train, val), optimizers(algo, lr, 1.0, weight_decay=weight_decay))
    first_order.train_step((train, val), optimizers(first_order, lr, 1.0,
                                                    weight_decay=weight_decay))
    arch_grad = [a - b for a, b in zip(params(start)[1], params(algo)[1])]
    first_grad = [a - b for a, b in zip(params(start)[1], params(first_order)[1])]

    numerical = []
    for param in start.mutator.arch_params.values():
        grad = torch.zeros_like(param)
        for i in range(param.numel()):
            values = []
            for delta in (1e-6, -1e-6):
                with torch.no_grad():
                    param[i] += delta
                values.append(unrolled_val_loss(start, train, val, lr, weight_decay))
                with torch.no_grad():
                    param[i] -= delta
            grad[i] = (values[0] - values[1]) / 2e-6
        numerical.append(grad)
    for got, want, first in zip(arch_grad, numerical, first_grad):
        assert torch.allclose(got, want, rtol=1e-3, atol=1e-6), (got, want)
        # the second-order term matters here: the first-order gradient is far off
        assert not torch.allclose(first, want, rtol=1e-2, atol=1e-4)
    # the weights were restored before their own step: they equal the first-order
    # step's formula at the new architecture
    weights = list(start.architecture.parameters())
    with torch.no_grad():
        for param, grad in zip(start.mutator.arch_params.values(), arch_grad):
            param -= grad
    expected = [w - lr * ((0 if g is None else g) + weight_decay * w)
                for w, g in zip(weights, grads(start, train, weights))]
    assert all(torch.allclose(a, b, atol=1e-10) for a, b in zip(params(algo)[0], expected))


def darts_classifier() -> dict:
    return dict(
        _scope_='mmpretrain', type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=10),
        backbone=darts_backbone(in_channels=1, base_channels=2, num_layers=3,
                                out_indices=(2, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=2 * 4 * 4))


def test_derived_subnet_exports_and_loads_into_an_equal_static_model(tmp_path):
    torch.manual_seed(0)
    algo = MODELS.build(dict(type='mmrazor.Darts', architecture=darts_classifier()))
    with torch.no_grad():
        for param in algo.mutator.arch_params.values():
            param.normal_()
    algo.mutator.set_choices(algo.mutator.sample_choices())
    subnet, static = export_fix_subnet(algo, slice_weight=True)
    # keyed by MMRazor's aliases; each choice is what its architecture parameter prefers
    arch_params, groups = algo.mutator.arch_params, algo.mutator.search_groups
    for key, group in groups.items():
        alias, chosen = group[0].alias, subnet[group[0].alias]['chosen']
        if isinstance(group[0], DiffMutableOP):
            assert chosen == OPS[int(arch_params[key].argmax())]
        else:
            top2 = arch_params[key].topk(2).indices.tolist()
            assert chosen == [f'{alias}_p{i}' for i in top2]
    path = tmp_path / 'subnet.yaml'
    path.write_text(yaml.safe_dump(subnet))

    torch.manual_seed(1)
    loaded = MODELS.build(darts_classifier())
    loaded.load_state_dict(algo.architecture.state_dict())
    load_fix_subnet(loaded, str(path))
    x = torch.rand(2, 1, 16, 16)
    static.eval(), loaded.eval()
    with torch.no_grad():
        assert (static(x) - loaded(x)).abs().max() <= 1e-5
    # only the kept edges, each with only its chosen op, remain
    supernet_size = sum(p.numel() for p in algo.architecture.parameters())
    assert sum(p.numel() for p in loaded.parameters()) < supernet_size / 4
    kept = [m for m in loaded.modules() if isinstance(m, DiffMutableOP)]
    assert len(kept) == 3 * 4 * 2 and all(m.is_fixed and len(m.choices) == 1 for m in kept)


def test_bad_optimizers_and_batches_are_refused():
    algo = tiny_darts(unroll=False)
    train, val = batch(1), batch(2)
    single = OptimWrapper(torch.optim.SGD(algo.parameters(), lr=0.1))
    with pytest.raises(TypeError, match='pairs but one optimizer'):
        algo.train_step((train, val), single)
    with pytest.raises(TypeError, match=r'steps on \(train batch, mutator batch\) pairs'):
        algo.train_step(train, optimizers(algo))
    only_weights = OptimWrapperDict(architecture=single)
    with pytest.raises(KeyError, match=r"two optimizers, \('architecture', 'mutator'\); "
                                       r"the optim wrapper has \['architecture'\]"):
        algo.train_step((train, val), only_weights)
    with pytest.raises(ValueError, match='found no differentiable mutable'):
        Darts(dict(_scope_='mmpretrain', type='ImageClassifier',
                   backbone=dict(type='mmpretrain.LeNet5')))
    # a single optimizer without pairs trains the supernet as a plain model
    before = params(algo)
    algo.train_step(train, single)
    after = params(algo)
    assert not any(torch.equal(a, b) for a, b in zip(before[1], after[1]))


@pytest.mark.parametrize('norm_training', [False, True])
def test_norm_training_keeps_batch_norms_training_in_eval(norm_training):
    algo = Darts(darts_classifier(), norm_training=norm_training)
    algo.eval()
    norms = [m for m in algo.architecture.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(m.training == norm_training for m in norms)
    assert not algo.architecture.backbone.training


def test_darts_ddp_is_the_one_algorithm_wrapper():
    assert MODEL_WRAPPERS.get('DartsDDP') is AlgorithmDDP
    assert MODEL_WRAPPERS.get('DSNASDDP') is AlgorithmDDP
