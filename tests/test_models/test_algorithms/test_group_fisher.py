"""Group Fisher pruning, prune -> fine-tune -> deploy: the recorded Fisher information
is the gradient of a channel mask, each pruning step removes exactly one channel's
FLOPs, the pruned checkpoint becomes a static model and the deployed model (config +
widths JSON + a weights-only state dict) reproduces it."""
import json
import math

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import OptimWrapper

from mmrazor.models.algorithms import GroupFisherAlgorithm
from mmrazor.models.architectures.dynamic_ops import (
                                                      DynamicMixin,
                                                      GroupFisherConv2d,
                                                      GroupFisherLinear,
)
from mmrazor.models.mutables import GroupFisherChannelUnit
from mmrazor.models.mutators import GroupFisherChannelMutator
from mmrazor.models.task_modules.estimators import count_model
from mmrazor.registry import MODEL_WRAPPERS, MODELS
from mmrazor.utils import build_model_from_config

SIZE = 32
ARCH = dict(_scope_='mmpretrain', type='ImageClassifier',
            backbone=dict(type='ResNet', depth=18),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=512))
PARSE = dict(type='ChannelAnalyzer', demo_input=(1, 3, SIZE, SIZE), tracer_type='FxTracer')


def resnet18() -> nn.Module:
    torch.manual_seed(0)
    return build_model_from_config(Config(dict(model=ARCH)))


def algorithm(interval: int = 2, **unit_args) -> GroupFisherAlgorithm:
    mutator = dict(type='GroupFisherChannelMutator', parse_cfg=PARSE,
                   channel_unit_cfg=dict(type='GroupFisherChannelUnit',
                                         default_args=unit_args))
    return GroupFisherAlgorithm(resnet18(), mutator=mutator, interval=interval)


def batch(n: int = 4, seed: int = 0) -> dict:
    from mmpretrain.structures import DataSample
    gen = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (3, SIZE, SIZE), generator=gen, dtype=torch.uint8)
              for _ in range(n)]
    return dict(inputs=inputs, data_samples=[DataSample().set_gt_label(i % 10)
                                             for i in range(n)])


def image(seed: int = 1) -> torch.Tensor:
    return torch.randn(2, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(seed))


def widths(algo: GroupFisherAlgorithm) -> dict:
    return {u.name: u.mutable_channel.activated_channels for u in algo.mutator.mutable_units}


def prune(algo: GroupFisherAlgorithm, steps: int, lr: float = 0.01) -> None:
    wrapper = OptimWrapper(torch.optim.SGD(algo.parameters(), lr=lr))
    for step in range(steps):
        algo.train_step(batch(seed=step), wrapper)


# ---- ops ----------------------------------------------------------------------------

def test_op_records_input_and_the_gradient_through_itself_only():
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 6, 3, padding=1)
    op = GroupFisherConv2d.convert_from(conv)
    x = torch.randn(2, 4, 5, 5, requires_grad=True)
    assert torch.equal(op(x), conv(x))  # same layer, same weights
    op.start_record()
    out = op(x)
    (out.square().sum() + (x * 3).sum()).backward()  # x also feeds another path
    op.end_record()
    [(recorded, grad)] = op.recorded_pairs()
    expected = torch.autograd.grad(conv(x).square().sum(), x)[0]
    assert torch.equal(recorded, x.detach())
    assert torch.allclose(grad, expected)  # not + 3: that gradient bypasses the conv
    assert op.recorded_out_shape == [torch.Size([2, 6, 5, 5])]
    assert op.delta_flops_of_out_channel() == 25 * 9 * 4  # positions * kernel * inputs
    assert op.delta_flops_of_in_channel() == 25 * 9 * 6
    op.reset_recorded()
    op(x).sum().backward()
    assert op.recorded_pairs() == []  # recording stopped


def test_linear_op_records_and_counts_rows():
    linear = GroupFisherLinear.convert_from(nn.Linear(8, 3))
    linear.start_record()
    x = torch.randn(2, 5, 8, requires_grad=True)
    linear(x).sum().backward()
    [(recorded, grad)] = linear.recorded_pairs()
    assert torch.allclose(grad, linear.weight.sum(0).expand(2, 5, 8))
    assert linear.delta_flops_of_out_channel() == 5 * 8
    assert linear.delta_memory_of_out_channel() == 5
    contribution = linear.in_channel_contribution(recorded, grad)
    assert torch.allclose(contribution, (recorded * grad).sum(1))


# ---- unit: Fisher information is the squared gradient of a channel mask -------------

class Residual(nn.Module):
    """conv1 -> bn -> relu, read by conv2 and (residual) added to conv2's output,
    then conv3: the unit of conv1/conv2 has two conv readers."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.conv3 = nn.Conv2d(8, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        return self.conv3(torch.relu(self.conv2(y) + y)).mean((1, 2, 3))


def test_unit_fisher_equals_squared_mask_gradient():
    torch.manual_seed(0)
    model = Residual()
    mutator = GroupFisherChannelMutator(
        parse_cfg=dict(type='ChannelAnalyzer', demo_input=(1, 3, 6, 6),
                       tracer_type='FxTracer'),
        channel_unit_cfg=dict(type='GroupFisherChannelUnit',
                              default_args=dict(normalization_type='none')))
    mutator.prepare_from_supernet(model)
    [unit] = [u for u in mutator.mutable_units if u.num_channels == 8]
    readers = {c.name for c in unit.input_related if isinstance(c.module, GroupFisherConv2d)}
    assert readers == {'conv2', 'conv3'}
    x = torch.randn(3, 3, 6, 6)
    mutator.start_record_info()
    model(x).square().sum().backward()
    mutator.end_record_info()
    fisher = unit.current_batch_fisher()

    # the same quantity by autograd: a per-sample mask on the inputs of the readers
    mask = torch.ones(3, 8, 1, 1, requires_grad=True)
    handles = [getattr(model, name).register_forward_pre_hook(
        lambda module, args: (args[0] * mask, )) for name in sorted(readers)]
    model(x).square().sum().backward()
    for handle in handles:
        handle.remove()
    expected = mask.grad.flatten(1).double().square().sum(0)
    assert torch.allclose(fisher, expected, rtol=1e-5)

    mutator.update_imp()
    assert torch.allclose(unit.normalized_fisher_info, expected, rtol=1e-5)
    mutator.reset_recorded_info()


@pytest.mark.parametrize('normalization', ['flops', 'act'])
def test_importance_is_fisher_divided_by_channel_cost(normalization):
    algo = algorithm(normalization_type=normalization)
    mutator = algo.mutator
    mutator.start_record_info()
    losses = algo(**algo.data_preprocessor(batch(), True), mode='loss')
    sum(losses.values()).backward()
    mutator.end_record_info()
    [unit] = [u for u in mutator.mutable_units
              if u.name == 'backbone.layer1.0.conv1_(0, 64)_64']
    cost = unit.delta_flops() / 1e9 if normalization == 'flops' else unit.delta_memory() / 1e6
    expected = unit.current_batch_fisher() / cost
    mutator.update_imp()
    assert torch.allclose(unit.normalized_fisher_info, expected)
    # a 3x3 conv producing 64 channels of 8x8 and one reading them (64 out, 8x8)
    if normalization == 'flops':
        assert unit.delta_flops() == 8 * 8 * 9 * 64 + 8 * 8 * 9 * 64
    else:
        assert unit.delta_memory() == 8 * 8
    mutator.reset_recorded_info()


def test_unit_arguments_are_checked():
    with pytest.raises(ValueError, match=r"normalization_type must be one of \('flops', "
                                         r"'act', 'none'\), got 'flop'"):
        GroupFisherChannelUnit(8, normalization_type='flop')
    unit = GroupFisherChannelUnit(8, normalization_type='act', mutate_linear=True)
    assert unit.init_args == dict(num_channels=8, choice_mode='number', divisor=1,
                                  min_value=1, min_ratio=0.9, normalization_type='act',
                                  mutate_linear=True)


def test_unit_read_by_the_classifier_prunes_only_with_mutate_linear():
    name = 'backbone.layer4.0.conv2_(0, 512)_512'
    assert name not in widths(algorithm())
    assert name in widths(algorithm(mutate_linear=True))


# ---- algorithm: one channel per interval, FLOPs exactly one channel lower ------------

def test_each_interval_prunes_one_channel_and_its_flops():
    algo = algorithm(interval=3)
    before = widths(algo)
    weights = algo.architecture.backbone.conv1.weight.detach().clone()
    macs = count_model(algo.architecture, (1, 3, SIZE, SIZE)).total_macs
    prune(algo, 2)
    assert widths(algo) == before  # Fisher still accumulating
    # the cost of one channel of each unit, measured on one image before pruning
    algo.eval()
    algo.mutator.start_record_info()
    algo(image(), mode='tensor')
    algo.mutator.end_record_info()
    algo.train()
    costs = {u.name: u.delta_flops() for u in algo.mutator.mutable_units}
    algo.mutator.reset_recorded_info()
    prune(algo, 1)
    after = widths(algo)
    changed = {n: before[n] - w for n, w in after.items() if w != before[n]}
    assert list(changed.values()) == [1]  # one channel, in one unit
    [name] = changed
    pruned_macs = count_model(algo.architecture, (1, 3, SIZE, SIZE)).total_macs
    assert macs - pruned_macs == costs[name]
    assert not torch.equal(algo.architecture.backbone.conv1.weight, weights)  # trained
    assert all(float(u.normalized_fisher_info.abs().sum()) == 0
               for u in algo.mutator.mutable_units)  # restarted
    prune(algo, 3)
    assert sum(before.values()) - sum(widths(algo).values()) == 2


def test_nan_importance_skips_pruning():
    algo = algorithm()
    unit = algo.mutator.mutable_units[0]
    unit.normalized_fisher_info[0] = math.nan
    before = widths(algo)
    assert algo.mutator.try_prune() is None
    assert widths(algo) == before


def test_bad_arguments():
    with pytest.raises(ValueError, match='interval must be a positive int'):
        GroupFisherAlgorithm(resnet18(), interval=0)
    with pytest.raises(TypeError, match='needs GroupFisherChannelUnit units'):
        GroupFisherChannelMutator(channel_unit_cfg=dict(type='L1MutableChannelUnit'))
    with pytest.raises(TypeError, match='must be a GroupFisherChannelMutator'):
        GroupFisherAlgorithm(resnet18(), mutator=dict(type='ChannelMutator'))


def test_group_fisher_ddp_is_the_generic_wrapper():
    from mmrazor.models.wrappers import AlgorithmDDP
    assert MODEL_WRAPPERS.get('GroupFisherDDP') is AlgorithmDDP


# ---- fine-tune and deploy --------------------------------------------------------------

@pytest.fixture(scope='module')
def pruned_checkpoint(tmp_path_factory):
    """A Group Fisher run of 12 steps (6 channels pruned), saved as a checkpoint."""
    algo = algorithm(interval=2)
    prune(algo, 12)
    path = tmp_path_factory.mktemp('gf') / 'pruned.pth'
    torch.save(dict(state_dict=algo.state_dict()), path)
    algo.eval()
    with torch.no_grad():
        output = algo(image(), mode='tensor')
    return str(path), widths(algo), output


def algorithm_cfg(checkpoint: str) -> dict:
    return dict(type='GroupFisherAlgorithm', architecture=ARCH, interval=2,
                mutator=dict(type='GroupFisherChannelMutator', parse_cfg=PARSE),
                init_cfg=dict(type='Pretrained', checkpoint=checkpoint))


def test_sub_model_is_the_static_pruned_architecture(pruned_checkpoint):
    path, pruned_widths, output = pruned_checkpoint
    model = MODELS.build(dict(type='GroupFisherSubModel', algorithm=algorithm_cfg(path)))
    assert not any(isinstance(m, DynamicMixin) for m in model.modules())
    assert model.pruning_structure == pruned_widths
    assert sum(pruned_widths.values()) == sum(int(n.split('_')[-1])
                                              for n in pruned_widths) - 6
    model.eval()
    with torch.no_grad():
        assert (model(image(), mode='tensor') - output).abs().max() <= 1e-5
    weights = model.backbone.conv1.weight.detach().clone()
    model.init_weights()  # as a Runner would: the pruned weights stay
    assert torch.equal(model.backbone.conv1.weight, weights)


def test_sub_model_divisor_gives_back_channels(pruned_checkpoint):
    path, pruned_widths, _ = pruned_checkpoint
    model = MODELS.build(dict(type='GroupFisherSubModel', algorithm=algorithm_cfg(path),
                              divisor=8))
    for name, width in model.pruning_structure.items():
        assert width % 8 == 0 and width >= pruned_widths[name]
    assert model.pruning_structure != pruned_widths


def test_deploy_reproduces_the_fine_tuned_model(pruned_checkpoint, tmp_path):
    path, pruned_widths, _ = pruned_checkpoint
    finetuned = MODELS.build(dict(type='GroupFisherSubModel', algorithm=algorithm_cfg(path)))
    torch.save(finetuned.state_dict(), tmp_path / 'weights.pth')
    (tmp_path / 'fix_subnet.json').write_text(json.dumps(finetuned.pruning_structure))
    deployed = MODELS.build(dict(type='GroupFisherDeploySubModel', architecture=ARCH,
                                 fix_subnet=str(tmp_path / 'fix_subnet.json'),
                                 parse_cfg=PARSE))
    state = torch.load(tmp_path / 'weights.pth', weights_only=True)
    deployed.load_state_dict(state)
    finetuned.eval()
    deployed.eval()
    with torch.no_grad():
        diff = (deployed(image(), mode='tensor') - finetuned(image(), mode='tensor'))
    assert diff.abs().max() <= 1e-5


def test_deploy_divisor_pads_zero_channels_and_keeps_outputs(pruned_checkpoint):
    path, pruned_widths, _ = pruned_checkpoint
    finetuned = MODELS.build(dict(type='GroupFisherSubModel', algorithm=algorithm_cfg(path)))
    deployed = MODELS.build(dict(type='GroupFisherDeploySubModel', architecture=ARCH,
                                 fix_subnet=pruned_widths, divisor=16, parse_cfg=PARSE))
    deployed.load_state_dict(finetuned.state_dict())
    assert deployed.backbone.conv1.out_channels % 16 == 0
    assert deployed.backbone.conv1.out_channels >= finetuned.backbone.conv1.out_channels
    finetuned.eval()
    deployed.eval()
    with torch.no_grad():
        diff = deployed(image(), mode='tensor') - finetuned(image(), mode='tensor')
    assert diff.abs().max() <= 1e-5
    macs = count_model(deployed, (1, 3, SIZE, SIZE)).total_macs
    assert macs > count_model(finetuned, (1, 3, SIZE, SIZE)).total_macs  # padded


def test_deploy_bad_widths():
    with pytest.raises(KeyError, match=r"'backbone.layer1.0.conv9_\(0, 64\)_64' \(closest: "
                                        r"\['backbone.layer1.0.conv1_\(0, 64\)_64'"):
        MODELS.build(dict(type='GroupFisherDeploySubModel', architecture=ARCH,
                          fix_subnet={'backbone.layer1.0.conv9_(0, 64)_64': 3},
                          parse_cfg=PARSE))
    with pytest.raises(ValueError, match='the unit has 64 channels'):
        MODELS.build(dict(type='GroupFisherDeploySubModel', architecture=ARCH,
                          fix_subnet={'backbone.layer1.0.conv1_(0, 64)_64': 65},
                          parse_cfg=PARSE))
    with pytest.raises(ValueError, match='divisor must be a positive int'):
        MODELS.build(dict(type='GroupFisherDeploySubModel', architecture=ARCH, divisor=0))


# ---- two gloo processes -----------------------------------------------------------------

def _ddp_worker(rank: int, port: int, out_dir: str) -> None:
    import torch.distributed as dist
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=2)
    try:
        algo = algorithm(interval=2)  # same seed: same weights on both ranks
        model = MODEL_WRAPPERS.build(dict(type='mmrazor.GroupFisherDDP', module=algo,
                                          broadcast_buffers=False))
        wrapper = OptimWrapper(torch.optim.SGD(algo.parameters(), lr=0.01))
        for step in range(4):
            model.train_step(batch(seed=10 * step + rank), wrapper)  # per-rank data
            if step == 2:  # one batch accumulated since the last pruning step
                info = torch.cat([u.normalized_fisher_info
                                  for u in algo.mutator.mutable_units])
        masks = torch.cat([u.current_mask for u in algo.mutator.mutable_units])
        params = torch.cat([p.detach().flatten() for p in algo.parameters()])
        torch.save(dict(masks=masks, params=params, info=info), f'{out_dir}/{rank}.pth')
    finally:
        dist.destroy_process_group()


def test_two_processes_prune_the_same_channels(tmp_path):
    import socket

    import torch.multiprocessing as mp
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    mp.spawn(_ddp_worker, args=(port, str(tmp_path)), nprocs=2)
    first, second = (torch.load(tmp_path / f'{rank}.pth', weights_only=True)
                     for rank in range(2))
    assert int((~first['masks']).sum()) == 2  # 4 steps, a channel every 2
    assert torch.equal(first['masks'], second['masks'])  # Fisher summed over ranks
    assert torch.equal(first['params'], second['params'])  # gradients averaged
    assert torch.equal(first['info'], second['info'])
    assert float(first['info'].sum()) > 0
