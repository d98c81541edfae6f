"""ItePruneAlgorithm on a small mmpretrain ResNet-18: the schedule lowers FLOPs step by
step to the target, L1 keeps the heaviest channels, bad targets fail before anything
changes, checkpoints keep the pruned structure and the exported static model matches."""
import copy

import pytest
import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from mmrazor.models.algorithms.pruning import ItePruneAlgorithm, ItePruneConfigManager
from mmrazor.models.task_modules.estimators import get_model_flops_params
from mmrazor.registry import MODELS
from mmrazor.structures import export_fix_subnet

SHAPE = (1, 3, 32, 32)
L1 = 'backbone.layer1.0.conv1_(0, 64)_64'
L4 = 'backbone.layer4.0.conv1_(0, 512)_512'


def classifier_cfg() -> dict:
    return dict(_scope_='mmpretrain', type='ImageClassifier',
                backbone=dict(type='ResNet', depth=18),
                neck=dict(type='GlobalAveragePooling'),
                head=dict(type='LinearClsHead', num_classes=10, in_channels=512))


def algorithm_cfg(**kwargs) -> dict:
    cfg = dict(type='mmrazor.ItePruneAlgorithm', architecture=classifier_cfg(),
               mutator_cfg=dict(
                   type='ChannelMutator',
                   channel_unit_cfg=dict(type='L1MutableChannelUnit',
                                         default_args=dict(choice_mode='ratio')),
                   parse_cfg=dict(type='ChannelAnalyzer', demo_input=SHAPE,
                                  tracer_type='FxTracer')),
               target_pruning_ratio={L1: 0.5, L4: 0.25})
    cfg.update(kwargs)
    return cfg


def batch(n: int = 2) -> dict:
    generator = torch.Generator().manual_seed(0)
    return dict(inputs=[torch.randint(0, 256, SHAPE[1:], dtype=torch.uint8,
                                      generator=generator) for _ in range(n)],
                data_samples=[DataSample().set_gt_label(i) for i in range(n)])


def flops(algorithm: ItePruneAlgorithm) -> float:
    return get_model_flops_params(algorithm.architecture, input_shape=SHAPE,
                                  units=None)[0]


def optim(algorithm: nn.Module) -> OptimWrapper:
    return OptimWrapper(torch.optim.SGD(algorithm.parameters(), lr=0.01))


def test_defaults_match_mmrazor():
    algorithm = ItePruneAlgorithm(classifier_cfg(), mutator_cfg=dict(
        type='ChannelMutator', parse_cfg=dict(type='ChannelAnalyzer', demo_input=SHAPE)))
    assert (algorithm.step_freq, algorithm.prune_times, algorithm.linear_schedule) == \
        (1, 1, True)
    assert algorithm.target_pruning_ratio == {}
    assert type(algorithm.mutator.mutable_units[0]).__name__ == 'SequentialMutableChannelUnit'


def test_linear_schedule_lowers_flops_step_by_step_then_keeps_the_target():
    algorithm = MODELS.build(algorithm_cfg(step_freq=2, prune_times=2))
    wrapper, data = optim(algorithm), batch()
    full = flops(algorithm)
    seen = []
    for _ in range(4):
        algorithm.train_step(data, wrapper)
        choices = algorithm.mutator.current_choices
        seen.append((choices[L1], choices[L4], flops(algorithm)))
    # iterations 0 and 2 prune: half-way (0.75, 0.625), then the target (0.5, 0.25)
    assert [s[:2] for s in seen] == [(0.75, 0.625)] * 2 + [(0.5, 0.25)] * 2
    assert full > seen[0][2] > seen[2][2]
    assert seen[0][2] == seen[1][2] and seen[2][2] == seen[3][2]
    # pruning only masks channels: the full widths give the full FLOPs back
    restored = copy.deepcopy(algorithm)
    restored.mutator.set_choices({L1: 1.0, L4: 1.0})
    assert flops(restored) == full
    untouched = [c for n, c in algorithm.mutator.current_choices.items() if n not in (L1, L4)]
    assert untouched and all(c == 1.0 for c in untouched)


def test_all_at_once_schedule_sets_the_target_at_the_first_step():
    algorithm = MODELS.build(algorithm_cfg(prune_times=3, linear_schedule=False))
    algorithm.train_step(batch(), optim(algorithm))
    assert algorithm.mutator.current_choices[L1] == 0.5
    assert algorithm.mutator.current_choices[L4] == 0.25


def test_config_manager_schedule():
    manager = ItePruneConfigManager({'a': 0.2, 'b': 16}, {'a': 1.0, 'b': 64}, step_freq=3,
                                    prune_times=4)
    assert [i for i in range(20) if manager.is_prune_time(i)] == [0, 3, 6, 9]
    assert manager.prune_at(3) == pytest.approx({'a': 0.6, 'b': 40})
    assert manager.prune_at(9) == {'a': pytest.approx(0.2), 'b': 16}
    with pytest.raises(ValueError, match='past the last pruning step'):
        manager.prune_at(12)


def test_l1_unit_keeps_the_channels_with_the_largest_weights():
    algorithm = MODELS.build(algorithm_cfg(target_pruning_ratio={L1: 0.25}))
    conv = algorithm.architecture.backbone.layer1[0].conv1
    heavy = torch.tensor([3, 10, 17, 22, 40, 41, 50, 63, 5, 7, 9, 11, 13, 15, 19, 21])
    with torch.no_grad():
        conv.weight.mul_(0.01)
        conv.weight[heavy] *= 1000
    algorithm.train_step(batch(), optim(algorithm))
    unit = {u.name: u for u in algorithm.mutator.mutable_units}[L1]
    assert unit.current_mask.nonzero().flatten().tolist() == sorted(heavy.tolist())


def test_bad_targets_fail_with_clear_errors_before_the_model_changes():
    architecture = MODELS.build(classifier_cfg())
    for target, error, match in (
            ({L1: 1.5}, ValueError, r'in \(0, 1\]'),
            ({L1: 0.0}, ValueError, r'in \(0, 1\]'),
            ({L1: True}, TypeError, 'maps unit names to numbers'),
            ([0.5], TypeError, 'must be a dict')):
        with pytest.raises(error, match=match):
            ItePruneAlgorithm(architecture, target_pruning_ratio=target)
    assert type(architecture.backbone.layer1[0].conv1) is nn.Conv2d  # not made dynamic
    with pytest.raises(ValueError, match='step_freq must be an int >= 1'):
        ItePruneAlgorithm(architecture, step_freq=0)
    # names are known only after tracing: the layers made dynamic are made plain again
    architecture.eval()
    x = torch.randn(1, *SHAPE[1:])
    before = architecture(x)
    with pytest.raises(KeyError, match=r"closest: backbone\.layer1\.0\.conv1_\(0, 64\)_64"):
        MODELS.build(algorithm_cfg(architecture=architecture, target_pruning_ratio={
            'backbone.layer1.0.conv1_(0,64)_64': 0.5}))
    assert type(architecture.backbone.layer1[0].conv1) is nn.Conv2d
    assert type(architecture.backbone.layer1[0].bn1) is nn.BatchNorm2d
    torch.testing.assert_close(architecture(x), before, rtol=0, atol=0)
    with pytest.raises(TypeError, match='must be a ChannelMutator'):
        ItePruneAlgorithm(classifier_cfg(), mutator_cfg=nn.Linear(1, 1))


def test_checkpoint_keeps_the_pruned_channels_and_outputs():
    algorithm = MODELS.build(algorithm_cfg())
    algorithm.train_step(batch(), optim(algorithm))
    state = algorithm.state_dict()
    units = algorithm.mutator.mutable_units
    # one tensor (runners broadcast state dicts): [choice, *mask] per unit
    assert state['_extra_state'].numel() == sum(1 + u.mutable_channel.num_channels
                                                for u in units)
    fresh = MODELS.build(algorithm_cfg())
    assert flops(fresh) > flops(algorithm)
    fresh.load_state_dict(state)
    masks = {u.name: u.current_mask for u in algorithm.mutator.mutable_units}
    for unit in fresh.mutator.mutable_units:
        assert torch.equal(unit.current_mask, masks[unit.name])
    assert flops(fresh) == flops(algorithm)
    x = torch.randn(2, *SHAPE[1:])
    algorithm.eval(), fresh.eval()
    torch.testing.assert_close(fresh(x), algorithm(x), rtol=0, atol=0)
    with pytest.raises(ValueError, match='saved from another model'):
        fresh.load_state_dict({**state, '_extra_state': state['_extra_state'][:-1]})


def test_pretrained_init_cfg_with_prefix_loads_the_architecture(tmp_path):
    source = MODELS.build(algorithm_cfg())
    path = str(tmp_path / 'algorithm.pth')
    torch.save({'state_dict': source.state_dict()}, path)
    architecture = classifier_cfg()
    architecture['init_cfg'] = dict(type='Pretrained', checkpoint=path, prefix='architecture.')
    target = MODELS.build(algorithm_cfg(architecture=architecture))
    weight = target.architecture.backbone.conv1.weight
    assert not torch.equal(weight, source.architecture.backbone.conv1.weight)
    target.init_weights()
    for key, value in source.architecture.state_dict().items():
        assert torch.equal(target.architecture.state_dict()[key], value), key


def test_exported_static_model_gives_the_same_output():
    algorithm = MODELS.build(algorithm_cfg())
    algorithm.train_step(batch(), optim(algorithm))
    algorithm.eval()
    fix_subnet, static = export_fix_subnet(algorithm, 'mutator', slice_weight=True)
    assert fix_subnet['channel_unit_cfg']['units'][L1]['choice'] == 0.5
    assert static.backbone.layer1[0].conv1.out_channels == 32
    assert static.backbone.layer4[0].conv1.out_channels == 128
    static.eval()
    x = torch.randn(2, *SHAPE[1:])
    torch.testing.assert_close(static(x), algorithm(x), rtol=0, atol=1e-5)
    # the static model computes what the pruned dynamic one counts
    assert get_model_flops_params(static, input_shape=SHAPE, units=None)[0] == flops(algorithm)


def test_attention_head_dims_train_reload_and_export():
    """A DeiT: the first train step prunes the head dims of block 0; the step trains the
    kept q/k/v rows; a fresh algorithm loading the checkpoint computes the same (its
    ``head_dims`` follow the restored masks); the static model matches."""
    deit = dict(_scope_='mmpretrain', type='ImageClassifier',
                backbone=dict(type='VisionTransformer', arch='deit-tiny', img_size=32,
                              patch_size=8, drop_path_rate=0.0),
                head=dict(type='LinearClsHead', num_classes=10, in_channels=192))
    heads = 'backbone.layers.0.attn.qkv_(0, 64)_64'
    cfg = algorithm_cfg(architecture=deit, target_pruning_ratio={heads: 0.5})
    algorithm = MODELS.build(cfg)
    qkv = algorithm.architecture.backbone.layers[0].attn.qkv
    before = qkv.weight.detach().clone()
    algorithm.train_step(batch(), optim(algorithm))
    attn = algorithm.architecture.backbone.layers[0].attn
    kept = algorithm.mutator.mutable_units[1].current_mask
    assert algorithm.mutator.mutable_units[1].name == heads and int(kept.sum()) == 32
    assert attn.head_dims == 32 and attn.embed_dims == 96
    rows = kept.repeat(9)
    assert not torch.equal(qkv.weight[rows], before[rows])  # trained
    assert torch.equal(qkv.weight[~rows], before[~rows])  # pruned: no gradient
    fresh = MODELS.build(cfg)
    fresh.load_state_dict(algorithm.state_dict())
    x = torch.randn(2, *SHAPE[1:])
    algorithm.eval(), fresh.eval()
    torch.testing.assert_close(fresh(x), algorithm(x), rtol=0, atol=0)
    assert fresh.architecture.backbone.layers[0].attn.head_dims == 32
    _, static = export_fix_subnet(algorithm, 'mutator', slice_weight=True)
    torch.testing.assert_close(static.eval()(x), algorithm(x), rtol=0, atol=1e-5)
