"""Mutable ops: one-shot (SPOS), probabilistic, DARTS mixed ops, DSNAS one-hot ops and
DARTS / GDAS choice routes, with candidates built from the mmcv registry."""
import copy
import random

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.models.mutables import (
    DiffChoiceRoute,
    DiffMutableOP,
    GumbelChoiceRoute,
    OneHotMutableOP,
    OneShotMutableOP,
    OneShotProbMutableOP,
)
from mmrazor.registry import MODELS

CONV_CANDIDATES = dict(
    conv3x3=dict(type='ConvModule', kernel_size=3, padding=1),
    conv5x5=dict(type='ConvModule', kernel_size=5, padding=2),
    conv1x1=dict(type='ConvModule', kernel_size=1))
CHANNELS = dict(in_channels=4, out_channels=4)


def one_shot_op(seed: int = 0) -> OneShotMutableOP:
    torch.manual_seed(seed)
    return OneShotMutableOP(CONV_CANDIDATES, module_kwargs=CHANNELS).eval()


def num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_one_shot_op_runs_the_chosen_candidate():
    op = one_shot_op()
    x = torch.randn(2, 4, 8, 8)
    assert op.choices == ['conv3x3', 'conv5x5', 'conv1x1']
    assert op.current_choice is None and op.mutable_prefix == 'module'
    with torch.no_grad():
        # no choice yet: every candidate runs (what a FLOPs counter measures)
        assert torch.allclose(op(x), sum(c(x) for c in op._candidates.values()))
        outputs = {}
        for name in op.choices:
            op.current_choice = name
            outputs[name] = op(x)
            assert torch.equal(outputs[name], op._candidates[name](x))
    assert not torch.allclose(outputs['conv3x3'], outputs['conv5x5'])
    # the config dicts were copied: module_kwargs did not leak into them
    assert 'in_channels' not in CONV_CANDIDATES['conv3x3']


def test_fixing_a_one_shot_op_drops_the_other_candidates():
    op = one_shot_op()
    x = torch.randn(2, 4, 8, 8)
    op.current_choice = 'conv5x5'
    with torch.no_grad():
        expected = op(x)
    conv5x5_params = num_params(op._candidates['conv5x5'])
    op.fix_chosen()
    assert op.is_fixed and op.choices == ['conv5x5']
    assert num_params(op) == conv5x5_params
    assert all(key.startswith('_candidates.conv5x5.') for key in op.state_dict())
    with torch.no_grad():
        assert torch.equal(op(x), expected)
    with pytest.raises(AttributeError, match="fixed; its choice 'conv5x5' cannot change"):
        op.current_choice = 'conv3x3'
    with pytest.raises(AttributeError, match='already fixed'):
        op.fix_chosen('conv5x5')


def test_one_shot_op_bad_input():
    op = one_shot_op()
    with pytest.raises(ValueError, match=r"choice 'conv7x7' is not one of its choices "
                                         r"\['conv3x3', 'conv5x5', 'conv1x1'\]"):
        op.current_choice = 'conv7x7'
    with pytest.raises(ValueError, match='has no choice to fix'):
        op.fix_chosen()
    assert not op.is_fixed
    with pytest.raises(ValueError, match='at least one candidate'):
        OneShotMutableOP({})
    with pytest.raises(TypeError, match="candidate 'bad' must be an op config"):
        OneShotMutableOP(dict(bad=3))
    with pytest.raises(RuntimeError, match='no choice to export yet'):
        op.dump_chosen()


def test_one_shot_op_max_min_sample_and_registry():
    op = MODELS.build(dict(type='OneShotMutableOP', candidates=CONV_CANDIDATES,
                           module_kwargs=CHANNELS, alias='block'))
    assert isinstance(op, OneShotMutableOP) and op.alias == 'block'
    assert op.max_choice == 'conv5x5' and op.min_choice == 'conv1x1'
    random.seed(0)
    first = [op.sample_choice() for _ in range(20)]
    random.seed(1)
    second = [op.sample_choice() for _ in range(20)]
    assert set(first) == set(op.choices) and first != second
    op.current_choice = 'conv1x1'
    assert op.dump_chosen().chosen == 'conv1x1' and op.export_chosen() == 'conv1x1'


def test_prob_op_samples_with_its_probabilities():
    op = OneShotProbMutableOP(CONV_CANDIDATES, choice_probs=[0.8, 0.2, 0.0],
                              module_kwargs=CHANNELS)
    random.seed(0)
    samples = [op.sample_choice() for _ in range(1000)]
    assert 'conv1x1' not in samples
    assert 0.75 < samples.count('conv3x3') / len(samples) < 0.85
    with pytest.raises(ValueError, match='sum to 1'):
        OneShotProbMutableOP(CONV_CANDIDATES, choice_probs=[0.5, 0.2, 0.1],
                             module_kwargs=CHANNELS)
    with pytest.raises(ValueError, match='one probability per candidate'):
        OneShotProbMutableOP(CONV_CANDIDATES, choice_probs=[0.5, 0.5], module_kwargs=CHANNELS)
    with pytest.raises(ValueError, match='one probability per candidate'):
        OneShotProbMutableOP(CONV_CANDIDATES, module_kwargs=CHANNELS)


def diff_op(cls=DiffMutableOP, seed: int = 0, **kwargs) -> DiffMutableOP:
    torch.manual_seed(seed)
    return cls(CONV_CANDIDATES, module_kwargs=CHANNELS, **kwargs).eval()


def test_diff_op_mixes_candidates_by_softmax_and_trains_arch_param():
    op = diff_op()
    x = torch.randn(2, 4, 8, 8)
    arch_param = nn.Parameter(torch.tensor([0.5, -1.0, 2.0]))
    out = op(x, arch_param)
    weights = torch.softmax(arch_param.detach(), -1)
    with torch.no_grad():
        candidates = [c(x) for c in op._candidates.values()]
    expected = sum(w * c for w, c in zip(weights, candidates))
    assert torch.allclose(out, expected, atol=1e-6)
    out.square().mean().backward()
    assert arch_param.grad is not None and arch_param.grad.abs().min() > 0
    # the mutator's way: the parameter is handed over once, not registered in the op
    op.set_forward_args(arch_param)
    assert torch.allclose(op(x), out)
    assert all(p is not arch_param for p in op.parameters())
    with pytest.raises(ValueError, match='has 3 choices; an arch_param of 2 values'):
        op.set_forward_args(nn.Parameter(torch.zeros(2)))
    assert op.sample_choice(arch_param) == 'conv1x1'


def test_diff_op_fixing_and_bad_input():
    op = diff_op()
    x = torch.randn(2, 4, 8, 8)
    with torch.no_grad():
        expected = op._candidates['conv3x3'](x) + op._candidates['conv1x1'](x)
    op.fix_chosen(['conv3x3', 'conv1x1'])
    assert op.choices == ['conv3x3', 'conv1x1']
    with torch.no_grad():
        assert torch.allclose(op(x, nn.Parameter(torch.zeros(3))), expected)
    with pytest.raises(ValueError, match=r'fix_threshold must be in \[0, 1\]'):
        diff_op(fix_threshold=1.5)
    with pytest.raises(ValueError, match="choice 'pool' is not one of its choices"):
        diff_op().current_choice = 'pool'


def test_one_hot_op_runs_one_sampled_candidate_straight_through():
    op = diff_op(OneHotMutableOP)
    x = torch.randn(2, 4, 8, 8)
    with torch.no_grad():
        candidates = {name: c(x) for name, c in op._candidates.items()}
    arch_param = nn.Parameter(torch.zeros(3))
    seen = set()
    for seed in range(12):
        torch.manual_seed(seed)
        out = op(x, arch_param)
        chosen = [name for name, c in candidates.items() if torch.allclose(out, c, atol=1e-6)]
        assert len(chosen) == 1
        seen.add(chosen[0])
    assert len(seen) > 1  # sampled, not argmax
    out.sum().backward()
    assert arch_param.grad.abs().sum() > 0 and op.arch_weights.grad is not None
    fixing = diff_op(OneHotMutableOP, fix_threshold=0.5).train()
    fixing(x, nn.Parameter(torch.tensor([0.0, 5.0, 0.0])))
    assert fixing.is_fixed and fixing.choices == ['conv5x5']


def edges(seed: int = 0) -> nn.ModuleDict:
    torch.manual_seed(seed)
    return nn.ModuleDict({f'edge{i}': nn.Conv2d(4, 4, 3, padding=1) for i in range(3)})


def test_diff_choice_route_weighs_and_fixes_edges():
    inputs = [torch.randn(1, 4, 6, 6) for _ in range(3)]
    route = DiffChoiceRoute(edges(), with_arch_param=True)
    arch_param = nn.Parameter(torch.tensor([1.0, 0.0, -1.0]))
    with torch.no_grad():
        outs = [e(x) for e, x in zip(route._candidates.values(), inputs)]
    mixed = route(inputs, arch_param)
    weights = torch.softmax(arch_param.detach(), -1)
    assert torch.allclose(mixed, sum(w * o for w, o in zip(weights, outs)), atol=1e-6)
    mixed.sum().backward()
    assert arch_param.grad.abs().min() > 0
    assert route.sample_choice(arch_param) == ['edge0', 'edge1']
    # without with_arch_param the edges are summed
    plain = DiffChoiceRoute(edges())
    with torch.no_grad():
        assert torch.allclose(plain(inputs, arch_param), sum(outs), atol=1e-6)
    route.fix_chosen(['edge2', 'edge0'])
    assert route.choices == ['edge0', 'edge2']
    with torch.no_grad():
        assert torch.allclose(route(inputs), outs[0] + outs[2], atol=1e-6)
    with pytest.raises(ValueError, match='has 3 edges'):
        route(inputs[:2])
    with pytest.raises(ValueError, match="not a list of distinct edges from"):
        DiffChoiceRoute(edges()).current_choice = ['edge0', 'edge0']
    with pytest.raises(ValueError, match=r'num_chosen must be in \[1, 3\]'):
        DiffChoiceRoute(edges(), num_chosen=4)
    with pytest.raises(NotImplementedError, match='no largest choice'):
        DiffChoiceRoute(edges()).max_choice


def test_gumbel_route_takes_one_edge_with_gradient():
    inputs = [torch.randn(1, 4, 6, 6) for _ in range(3)]
    route = GumbelChoiceRoute(edges(), with_arch_param=True)
    assert route.tau == 1.0 and route.hard is True
    arch_param = nn.Parameter(torch.zeros(3))
    with torch.no_grad():
        outs = [e(x) for e, x in zip(route._candidates.values(), inputs)]
    torch.manual_seed(0)
    out = route(inputs, arch_param)
    assert sum(torch.allclose(out, o, atol=1e-6) for o in outs) == 1
    out.sum().backward()
    assert arch_param.grad.abs().sum() > 0
    route.set_temperature(0.1)
    assert route.tau == 0.1
    soft = GumbelChoiceRoute(edges(), hard=False, with_arch_param=True)
    torch.manual_seed(0)
    probs = F.gumbel_softmax(torch.zeros(3), tau=1.0, hard=False)
    torch.manual_seed(0)
    with torch.no_grad():
        assert torch.allclose(soft(inputs, torch.zeros(3)),
                              sum(p * o for p, o in zip(probs, outs)), atol=1e-6)


def test_deepcopy_keeps_the_handed_arch_param_shared():
    op = diff_op()
    arch_param = nn.Parameter(torch.zeros(3))
    op.set_forward_args(arch_param)
    holder = nn.ModuleDict(dict(op=op, params=nn.ParameterList([arch_param])))
    copied = copy.deepcopy(holder)
    assert copied['op']._default_arch_param is copied['params'][0]
