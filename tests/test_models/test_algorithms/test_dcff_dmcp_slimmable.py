"""DCFF, DMCP and SlimmableNetwork on a small mmpretrain ResNet-18 (and, where a loop or
hook is involved, in real MMEngine Runners on Fashion-MNIST): DCFF's temperature
moves the fused filters from a mixture to the kept filters and the compact model keeps
them; DMCP's Markov parameters get gradients only from the architecture step and the
FLOPs loss pulls the expected FLOPs to the target; a slimmable step trains every
width and each width exports to a static model with the same output."""
import copy
import json
import os.path as osp

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.runner import Runner
from mmpretrain.structures import DataSample
from torch.utils.flop_counter import FlopCounterMode

from mmrazor.models.algorithms.pruning import DCFF, DMCP, SlimmableNetwork
from mmrazor.models.algorithms.pruning.dcff import dcff_temperature
from mmrazor.models.algorithms.pruning.dmcp import flops_loss
from mmrazor.models.architectures.dynamic_ops import (
    DMCPBatchNorm2d,
    DynamicMixin,
    FuseConv2d,
    SwitchableBatchNorm2d,
)
from mmrazor.models.mutables import MutableChannelContainer, SimpleMutableChannel
from mmrazor.models.task_modules.estimators import get_model_flops_params
from mmrazor.models.wrappers import AlgorithmDDP
from mmrazor.registry import MODEL_WRAPPERS
from mmrazor.structures import export_fix_subnet, load_fix_subnet
from mmrazor.utils import build_model_from_config

SHAPE = (1, 3, 32, 32)
GREY = (1, 1, 28, 28)  # Fashion-MNIST
L1 = 'backbone.layer1.0.conv1_(0, 64)_64'
STEM = 'backbone.conv1_(0, 64)_64'


def classifier_cfg(in_channels: int = 3) -> dict:
    return dict(_scope_='mmpretrain', type='ImageClassifier',
                backbone=dict(type='ResNet', depth=18, in_channels=in_channels),
                neck=dict(type='GlobalAveragePooling'),
                head=dict(type='LinearClsHead', num_classes=10, in_channels=512))


def classifier(in_channels: int = 3) -> nn.Module:
    return build_model_from_config(Config(dict(model=classifier_cfg(in_channels))))


def parse_cfg(shape=SHAPE) -> dict:
    return dict(type='ChannelAnalyzer', demo_input=shape, tracer_type='FxTracer')


def batch(n: int = 4) -> dict:
    generator = torch.Generator().manual_seed(0)
    return dict(inputs=[torch.randint(0, 256, SHAPE[1:], dtype=torch.uint8,
                                      generator=generator) for _ in range(n)],
                data_samples=[DataSample().set_gt_label(i) for i in range(n)])


def static_output_matches(algorithm: nn.Module, x: torch.Tensor) -> nn.Module:
    """Export the current subnet and check it computes what the algorithm does."""
    algorithm.eval()
    expected = algorithm(x, mode='tensor')
    _, static = export_fix_subnet(algorithm, 'mutator', slice_weight=True)
    assert not any(isinstance(m, DynamicMixin) for m in static.modules())
    assert torch.allclose(static.eval()(x, mode='tensor'), expected, atol=1e-5)
    return static


def runner(tmp_path, name: str, model: dict, data_root: str, max_iters: int = 2,
           **cfg) -> Runner:
    data = dict(batch_size=16, num_workers=0, sampler=dict(type='DefaultSampler',
                                                          shuffle=False),
                dataset=dict(type='mmrazor.OfflineFashionMNIST', data_root=data_root,
                             split='test', indices=32,
                             pipeline=[dict(type='mmpretrain.PackInputs')]))
    model.setdefault('data_preprocessor', dict(
        type='mmpretrain.ClsDataPreprocessor', num_classes=10, mean=[72.94], std=[90.02],
        to_rgb=False))
    base = dict(model=model, work_dir=str(tmp_path), experiment_name=name,
                default_scope='mmrazor', train_dataloader=data,
                train_cfg=dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters),
                optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
                val_dataloader=data, val_evaluator=dict(type='mmpretrain.Accuracy'),
                val_cfg=dict(type='ValLoop'), randomness=dict(seed=0),
                default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=-1,
                                                   save_last=False)))
    base.update(cfg)
    return Runner.from_cfg(Config(base))


# ---- DCFF ---------------------------------------------------------------------------


def fuse_conv_keeping(mask: torch.Tensor) -> FuseConv2d:
    torch.manual_seed(0)
    conv = FuseConv2d.convert_from(nn.Conv2d(4, len(mask), 3, padding=1, bias=True))
    for index, side in enumerate(('in_channels', 'out_channels')):
        conv.register_mutable_attr(side, MutableChannelContainer(conv.channel_sizes[index]))
    mutable = SimpleMutableChannel(len(mask))
    mutable.current_choice = mask
    MutableChannelContainer.register_mutable_channel_to_module(conv, mutable, True, 0,
                                                               len(mask))
    return conv


def test_fuse_conv_temperature_moves_fused_filters_from_mixture_to_kept_filters():
    mask = torch.tensor([1, 0, 1, 1, 0, 0, 1, 0], dtype=torch.bool)
    conv = fuse_conv_keeping(mask)
    flat = conv.weight.detach().flatten(1)
    conv.update_fusion(1.0)
    warm, warm_bias = [t.detach().clone() for t in conv.active_conv_params()[:2]]
    # DCFF: kept filter i = sum_j softmax_j(-||w_i - w_j|| / t) w_j
    p = F.softmax(-torch.cdist(flat, flat) / 1.0, dim=1)[mask]
    assert torch.allclose(warm.flatten(1), p @ flat, atol=1e-6)
    assert torch.allclose(warm_bias, p @ conv.bias.detach(), atol=1e-6)
    assert not torch.allclose(warm, conv.weight[mask], atol=1e-3)
    conv.update_fusion(1e-4)
    cold = conv.active_conv_params()[0]
    assert torch.allclose(cold, conv.weight[mask], atol=1e-6)  # plain selection
    assert (warm - cold).abs().max() > 1e-3


def test_fuse_conv_static_op_reproduces_the_fused_output():
    conv = fuse_conv_keeping(torch.tensor([1, 1, 0, 1, 0, 1, 1, 0], dtype=torch.bool))
    conv.update_fusion(0.5)
    conv.mutable_out_channels.mutable_channels[(0, 8)].fix_chosen()
    x = torch.randn(2, 4, 6, 6)
    static = conv.to_static_op()
    assert type(static) is nn.Conv2d and static.out_channels == 5
    assert torch.allclose(static(x), conv(x), atol=1e-5)
    # the fused conv gives gradients to every filter, the dropped ones included
    conv(x).sum().backward()
    assert (conv.weight.grad.flatten(1).abs().sum(1) > 0).all()


def test_fuse_conv_recomputes_its_fusion_from_a_loaded_checkpoint():
    mask = torch.tensor([0, 1, 1, 0, 1, 0, 1, 1], dtype=torch.bool)
    conv, loaded = fuse_conv_keeping(mask), fuse_conv_keeping(mask)
    conv.update_fusion(0.3)
    loaded.load_state_dict(conv.state_dict())
    assert float(loaded.temperature) == pytest.approx(0.3)
    x = torch.randn(1, 4, 5, 5)
    assert torch.allclose(loaded(x), conv(x), atol=1e-6)


def test_dcff_temperature_falls_from_one_to_1e_4():
    temps = [dcff_temperature(step, 9) for step in range(10)]
    assert temps[0] == pytest.approx(1.0)
    assert temps[-1] == pytest.approx(1e-4)
    assert all(a > b for a, b in zip(temps, temps[1:]))
    with pytest.raises(ValueError, match='total_steps must be >= 1'):
        dcff_temperature(0, 0)


def dcff(**kwargs) -> DCFF:
    return DCFF(classifier(), mutator_cfg=dict(
        type='DCFFChannelMutator', channel_unit_cfg=dict(
            type='DCFFChannelUnit', default_args=dict(choice_mode='ratio')),
        parse_cfg=parse_cfg()), **kwargs)


def test_dcff_defaults_match_mmrazor():
    algorithm = dcff()
    assert (algorithm.step_freq, algorithm.prune_times, algorithm.linear_schedule) == \
        (1, 0, False)
    unit = algorithm.mutator.mutable_units[0]
    assert type(unit).__name__ == 'DCFFChannelUnit'
    assert (unit.candidate_choices, unit.choice_mode) == ([1.0], 'ratio')
    assert isinstance(algorithm.architecture.backbone.layer1[0].conv1, FuseConv2d)
    with pytest.raises(TypeError, match='DCFF needs a DCFFChannelMutator'):
        DCFF(classifier(), mutator_cfg=dict(type='ChannelMutator',
                                            parse_cfg=parse_cfg()))
    with pytest.raises(ValueError, match='needs prune_times > 0'):
        dcff().train_step(batch(), OptimWrapper(torch.optim.SGD([nn.Parameter(
            torch.zeros(1))], lr=0.1)))


def test_dcff_prunes_keeps_the_most_distinct_filters_and_exports_the_fused_model():
    algorithm = dcff(target_pruning_ratio={L1: 0.5, STEM: 0.25}, prune_times=2)
    wrapper = OptimWrapper(torch.optim.SGD(algorithm.parameters(), lr=0.01))
    conv = algorithm.architecture.backbone.layer1[0].conv1
    temperatures = []
    for _ in range(3):
        algorithm.train_step(batch(), wrapper)
        temperatures.append(float(conv.temperature))
    assert temperatures[:2] == pytest.approx([dcff_temperature(s, 1) for s in range(2)])
    assert temperatures[2] == temperatures[1]  # two steps only
    assert algorithm.mutator.current_choices[L1] == 0.5
    # the unit keeps the channels of the largest KL scores, and the next BN the same
    unit = {u.name: u for u in algorithm.mutator.mutable_units}[L1]
    scores = conv.fusion_scores(unit.temperature)
    kept = unit.current_mask.nonzero().flatten()
    assert set(kept.tolist()) == set(scores.topk(32).indices.tolist())
    static = static_output_matches(algorithm, torch.randn(2, *SHAPE[1:]))
    bn = static.backbone.layer1[0].bn1
    assert torch.equal(bn.running_mean, algorithm.architecture.backbone.layer1[0].bn1
                       .running_mean[kept])
    assert static.backbone.layer1[0].conv1.out_channels == 32
    assert static.backbone.conv1.out_channels == 16


def test_dcff_in_a_runner_anneals_over_training_and_loads_as_a_sub_model(
        tmp_path, fashion_mnist_root):
    model = dict(type='DCFF', architecture=classifier_cfg(in_channels=1),
                 mutator_cfg=dict(type='DCFFChannelMutator', parse_cfg=parse_cfg(GREY),
                                  channel_unit_cfg=dict(type='DCFFChannelUnit')),
                 target_pruning_ratio={L1: 0.5})
    run = runner(tmp_path, 'dcff_runner', model, fashion_mnist_root, max_iters=3)
    run.train()
    algorithm = run.model
    conv = algorithm.architecture.backbone.layer1[0].conv1
    # prune_times=0: one step per iteration up to max_iters, ending at 1e-4
    assert float(conv.temperature) == pytest.approx(1e-4)
    subnet, static = export_fix_subnet(algorithm, 'mutator', slice_weight=True)
    # the pruning JSON rebuilds the compact structure on a fresh model, which then
    # takes the exported (fused) weights
    fresh = classifier(in_channels=1)
    load_fix_subnet(fresh, subnet, 'mutator')
    fresh.load_state_dict(static.state_dict())
    x = torch.randn(2, *GREY[1:])
    algorithm.eval()
    assert torch.allclose(fresh.eval()(x, mode='tensor'), algorithm(x, mode='tensor'),
                          atol=1e-5)


# ---- SlimmableNetwork ---------------------------------------------------------------


def slimmable(architecture=None, **kwargs) -> SlimmableNetwork:
    return SlimmableNetwork(architecture or classifier(), mutator=dict(
        type='SlimmableChannelMutator', channel_unit_cfg=dict(
            type='SlimmableChannelUnit',
            default_args=dict(candidate_choices=[0.25, 0.5, 1.0], choice_mode='ratio')),
        parse_cfg=parse_cfg()), **kwargs)


def test_slimmable_step_trains_every_width_with_its_own_batch_norm():
    algorithm = slimmable()
    bn = algorithm.architecture.backbone.layer2[0].bn1
    assert isinstance(bn, SwitchableBatchNorm2d)
    assert sorted(bn.candidate_bn, key=int) == ['32', '64', '128']
    before = {k: (b.weight.detach().clone(), b.running_mean.clone())
              for k, b in bn.candidate_bn.items()}
    wrapper = OptimWrapper(torch.optim.SGD(algorithm.parameters(), lr=0.1))
    log_vars = algorithm.train_step(batch(), wrapper)
    assert sorted(log_vars) == ['subnet_0.loss', 'subnet_1.loss', 'subnet_2.loss']
    for key, branch in bn.candidate_bn.items():
        weight, mean = before[key]
        assert not torch.equal(branch.weight, weight), key  # trained
        assert not torch.equal(branch.running_mean, mean), key  # saw a batch
    assert all(p.grad is None or not p.grad.any() for p in algorithm.parameters())


@pytest.mark.parametrize('accumulative_counts,steps', [(3, 1), (1, 3)])
def test_slimmable_steps_follow_accumulative_counts(accumulative_counts, steps):
    # MMRazor's configs set accumulative_counts to the number of subnets: one averaged
    # step per batch; without it every subnet steps
    algorithm = slimmable()
    optimizer = torch.optim.Adam(algorithm.parameters(), lr=1e-3)
    algorithm.train_step(batch(), OptimWrapper(optimizer,
                                               accumulative_counts=accumulative_counts))
    conv = algorithm.architecture.backbone.conv1.weight
    assert int(optimizer.state[conv]['step']) == steps


def test_slimmable_each_width_exports_a_static_model_with_the_same_output():
    algorithm = slimmable()
    algorithm.train_step(batch(), OptimWrapper(torch.optim.SGD(algorithm.parameters(),
                                                               lr=0.1)))
    x = torch.randn(2, *SHAPE[1:])
    sizes = []
    for subnet in algorithm.subnets:
        algorithm.mutator.set_choices(subnet)
        static = static_output_matches(algorithm, x)
        sizes.append(static.backbone.layer2[0].conv1.out_channels)
    assert sizes == [32, 64, 128]


def test_slimmable_deploy_index_makes_that_width_static():
    torch.manual_seed(0)
    architecture = classifier()
    supernet = slimmable(copy.deepcopy(architecture))
    deployed = slimmable(architecture, deploy_index=1)
    assert deployed.is_deployed and deployed.subnets == []
    assert not any(isinstance(m, DynamicMixin) for m in deployed.architecture.modules())
    assert deployed.architecture.backbone.layer2[0].conv1.out_channels == 64
    supernet.mutator.set_choices(supernet.mutator.subnets[1])
    x = torch.randn(2, *SHAPE[1:])
    assert torch.allclose(deployed.eval()(x, mode='tensor'),
                          supernet.eval()(x, mode='tensor'), atol=1e-5)
    with pytest.raises(ValueError, match=r'deploy_index must be -1 .* \[0, 3\), got 3'):
        slimmable(deploy_index=3)


def test_slimmable_val_loop_reports_every_width(tmp_path, fashion_mnist_root):
    model = dict(type='SlimmableNetwork', architecture=classifier_cfg(in_channels=1),
                 mutator=dict(type='SlimmableChannelMutator', parse_cfg=parse_cfg(GREY),
                              channel_unit_cfg=dict(type='SlimmableChannelUnit',
                                                    default_args=dict(
                                                        candidate_choices=[0.5, 1.0],
                                                        choice_mode='ratio'))))
    run = runner(tmp_path, 'slimmable_val', model, fashion_mnist_root,
                 val_cfg=dict(type='mmrazor.SlimmableValLoop'))
    run.train()
    metrics = run.val_loop.run()
    assert sorted(metrics) == ['subnet_0.accuracy/top1', 'subnet_1.accuracy/top1']
    # each figure is that width's own accuracy
    algorithm = run.model
    for index, subnet in enumerate(algorithm.subnets):
        algorithm.mutator.set_choices(subnet)
        correct = 0
        for data in run.val_dataloader:
            for sample in algorithm.val_step(data):
                correct += int(sample.pred_label == sample.gt_label)
        assert metrics[f'subnet_{index}.accuracy/top1'] == pytest.approx(100 * correct / 32)
    assert MODEL_WRAPPERS.get('SlimmableNetworkDDP') is AlgorithmDDP


# ---- DMCP ---------------------------------------------------------------------------

DISTILLER = dict(
    type='ConfigurableDistiller',
    teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
    student_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
    distill_losses=dict(loss_kl=dict(type='KLDivergence', tau=1, loss_weight=1)),
    loss_forward_mappings=dict(loss_kl=dict(
        preds_S=dict(recorder='fc', from_student=True),
        preds_T=dict(recorder='fc', from_student=False))))


def dmcp_mutator(shape=SHAPE) -> dict:
    return dict(type='DMCPChannelMutator', parse_cfg=parse_cfg(shape),
                channel_unit_cfg=dict(type='DMCPChannelUnit',
                                      default_args=dict(choice_mode='number')))


def dmcp(**kwargs) -> DMCP:
    return DMCP(DISTILLER, classifier(), mutator_cfg=dmcp_mutator(), **kwargs)


def wrappers(algorithm: DMCP, arch_lr: float = 0.5) -> OptimWrapperDict:
    return OptimWrapperDict(
        architecture=OptimWrapper(torch.optim.SGD(algorithm.architecture.parameters(),
                                                  lr=0.01)),
        mutator=OptimWrapper(torch.optim.Adam(algorithm.mutator.parameters(), lr=arch_lr)))


def conv_linear_mflops(model: nn.Module) -> float:
    """Multiply-accumulates of one sample, by torch's own counter (2 per MAC)."""
    with FlopCounterMode(display=False) as counter:
        model.eval()(torch.randn(SHAPE), mode='tensor')
    return counter.get_total_flops() / 2 / 1e6


def test_dmcp_defaults_match_mmrazor_without_the_leading_space():
    import inspect
    defaults = {k: v.default for k, v in inspect.signature(DMCP).parameters.items()}
    assert defaults['mutator_cfg'] == dict(type='DMCPChannelMutator',
                                           channel_unit_cfg=dict(type='DMCPChannelUnit'))
    assert (defaults['strategy'], defaults['arch_start_train'], defaults['arch_train_freq'],
            defaults['distillation_times'], defaults['target_flops'],
            defaults['flops_loss_type'], defaults['flop_loss_weight']) == \
        (['max', 'min', 'arch_random'], 10000, 500, 20000, 150, 'log_l1', 1.0)
    assert MODEL_WRAPPERS.get('DMCPDDP') is AlgorithmDDP
    with pytest.raises(ValueError, match="strategy entries must be in"):
        dmcp(strategy=['max', 'biggest'])
    with pytest.raises(ValueError, match="flops_loss_type must be one of"):
        dmcp(flops_loss_type='log')


def test_dmcp_unit_width_groups_and_markov_probabilities():
    algorithm = dmcp()
    unit = {u.name: u for u in algorithm.mutator.mutable_units}[L1]
    # pruning_cfg (0.1, 1, 0.05) on 64 channels: 6, then steps of ~3 up to 64
    assert unit.arch_widths[0] == 6 and unit.arch_widths[-1] == 64
    assert (unit.min_choice, unit.max_choice) == (6, 64)
    with torch.no_grad():
        unit.arch_param.fill_(0.0)  # every transition: 1/2
    probs = unit.group_probs()
    assert torch.allclose(probs, 0.5 ** torch.arange(len(unit.arch_widths)).float())
    channel = unit.channel_probs()
    assert channel[:6].eq(1).all() and channel[6:10].eq(0.5).all()
    assert unit.expected_channels().item() == pytest.approx(channel.sum().item())


def test_dmcp_batchnorm_weights_channels_by_their_keep_probability_in_arch_training():
    algorithm = dmcp()
    bn = algorithm.architecture.backbone.layer1[0].bn1
    assert isinstance(bn, DMCPBatchNorm2d)
    unit = {u.name: u for u in algorithm.mutator.mutable_units}[L1]
    x = torch.randn(2, 64, 4, 4)
    plain = bn.eval()(x)
    algorithm.mutator.set_arch_train(True)
    weighted = bn(x)
    algorithm.mutator.set_arch_train(False)
    assert torch.allclose(weighted, plain * unit.channel_probs().view(1, -1, 1, 1))
    algorithm.mutator.set_arch_train(True)  # the weighting is differentiable
    bn(x).sum().backward()
    assert unit.arch_param.grad is not None and unit.arch_param.grad.abs().sum() > 0


@pytest.mark.parametrize('logit, mode', [(30.0, 'max'), (-30.0, 'min')])
def test_dmcp_expected_flops_equal_torch_counts_at_certain_widths(logit, mode):
    algorithm = dmcp()
    with torch.no_grad():
        for unit in algorithm.mutator.mutable_units:
            unit.arch_param.fill_(logit)
    algorithm.mutator.set_subnet(mode)
    measured = conv_linear_mflops(algorithm.architecture)
    assert float(algorithm.mutator.expected_flops()) == pytest.approx(measured, rel=1e-5)


def test_dmcp_arch_step_trains_markov_params_towards_the_target_flops():
    algorithm = dmcp(arch_start_train=0, arch_train_freq=1, target_flops=5.0,
                     strategy=['max', 'arch_random'])
    wrapper = wrappers(algorithm, arch_lr=0.1)
    params = {u.name: u.arch_param.detach().clone() for u in algorithm.mutator.mutable_units}
    history = []
    for _ in range(3):
        log_vars = algorithm.train_step(batch(), wrapper)
        history.append((float(log_vars['arch.expected_flops']),
                        float(log_vars['arch.flops_loss'])))
        # the architecture loss trains only the Markov parameters
        assert all(p.grad is None or not p.grad.any()
                   for p in algorithm.architecture.parameters())
    expected, losses = zip(*history)
    assert expected[0] > 5.0 and all(a > b for a, b in zip(expected, expected[1:]))
    assert all(a > b for a, b in zip(losses, losses[1:]))
    assert all(not torch.equal(u.arch_param, params[u.name])
               for u in algorithm.mutator.mutable_units)
    # the subnets after 'max' learn from it, and the model is left at its max width
    assert '1_arch_random.loss_kl' in log_vars
    assert algorithm.mutator.current_choices == {
        u.name: u.max_choice for u in algorithm.mutator.mutable_units}
    assert int(algorithm.iteration) == 3


def test_dmcp_weight_steps_leave_the_markov_params_alone_before_arch_start():
    algorithm = dmcp(arch_start_train=5, distillation_times=0,
                     strategy=['max', 'min', 'scheduled_random'])
    params = [u.arch_param.detach().clone() for u in algorithm.mutator.mutable_units]
    log_vars = algorithm.train_step(batch(), wrappers(algorithm))
    assert 'arch.loss' not in log_vars and '1_min.loss' in log_vars
    assert '1_min.loss_kl' not in log_vars  # past distillation_times: task losses
    assert all(torch.equal(u.arch_param, p)
               for u, p in zip(algorithm.mutator.mutable_units, params))
    with pytest.raises(TypeError, match="SeparateOptimWrapperConstructor"):
        dmcp(arch_start_train=0).train_step(batch(), OptimWrapper(
            torch.optim.SGD(algorithm.parameters(), lr=0.1)))


def test_flops_loss_types():
    target = 100.0
    assert float(flops_loss(torch.tensor(97.0), target, 'log_l1')) == 0  # in the band
    assert float(flops_loss(torch.tensor(50.0), target, 'log_l1')) == pytest.approx(
        torch.log(torch.tensor(50.0)).item())
    assert float(flops_loss(torch.tensor(120.0), target, 'log_l1')) == pytest.approx(
        torch.log(torch.tensor(25.0)).item())
    assert float(flops_loss(torch.tensor(500.0), target, 'log_l1')) == pytest.approx(
        torch.log(torch.tensor(0.1 * 405.0)).item())
    assert float(flops_loss(torch.tensor(90.0), target, 'l2')) == 100.0
    assert float(flops_loss(torch.tensor(90.0), target, 'l1')) == 10.0


def test_dmcp_subnet_hook_exports_the_sampled_subnet_nearest_the_target(
        tmp_path, fashion_mnist_root):
    model = dict(type='DMCP', distiller=DISTILLER, architecture=classifier_cfg(1),
                 mutator_cfg=dmcp_mutator(GREY), arch_start_train=0, arch_train_freq=1,
                 target_flops=10.0)
    optim = dict(constructor='mmrazor.SeparateOptimWrapperConstructor',
                 architecture=dict(optimizer=dict(type='SGD', lr=0.01)),
                 mutator=dict(optimizer=dict(type='Adam', lr=0.1)))
    run = runner(tmp_path, 'dmcp_hook', model, fashion_mnist_root, max_iters=1,
                 optim_wrapper=optim,
                 custom_hooks=[dict(type='DMCPSubnetHook', subnet_sample_num=3)])
    run.train()
    with open(osp.join(str(tmp_path), 'dmcp_subnets.json')) as f:
        candidates = json.load(f)
    assert [c['mode'] for c in candidates] == ['expected'] + ['direct'] * 3
    best = min(candidates, key=lambda c: abs(c['flops'] - 10.0))
    # the exported pruning JSON rebuilds exactly that subnet on a fresh model
    fresh = classifier(in_channels=1)
    load_fix_subnet(fresh, osp.join(str(tmp_path), 'dmcp_subnet.json'), 'mutator')
    flops = get_model_flops_params(fresh, input_shape=GREY)[0]
    assert flops == pytest.approx(best['flops'], rel=1e-6)
