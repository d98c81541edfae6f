"""ResourceEstimator and its helpers on real models: published figures, torch's own
counter in the same test, detectors and segmentors from their configs, bad input."""
import inspect
import io

import pytest
import torch
import torch.nn as nn
import torchvision
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from mmrazor.models.algorithms.base import BaseAlgorithm
from mmrazor.models.task_modules.demo_inputs import DefaultDemoInput
from mmrazor.models.task_modules.estimators import (
    count_flops_params,
    get_model_flops_params,
    get_model_latency,
)
from mmrazor.registry import TASK_UTILS
from mmrazor.utils import build_model_from_cfg_path
from mmrazor.utils.lookup import NameLookupError


def torch_macs(model: nn.Module, data) -> float:
    """Multiply-accumulates by ``FlopCounterMode`` (2 FLOPs each), same input.

    FlopCounterMode counts nothing for the CPU kernel of scaled_dot_product_attention
    nor for the fused inference path of nn.MultiheadAttention; on the math kernel, with
    grad mode on (which turns the fused path off), it sees every matmul.
    """
    model.eval()
    with torch.enable_grad(), sdpa_kernel([SDPBackend.MATH]), \
            FlopCounterMode(display=False) as counter:
        model(**data) if isinstance(data, dict) else model(data)
    return counter.get_total_flops() / 2


def check_against_torch(model: nn.Module, shape=(1, 3, 224, 224)):
    """Our count and torch's on the same input (a detector's proposals depend on it)."""
    data = DefaultDemoInput(input_shape=shape).get_data(model.eval())
    report = count_flops_params(model, data, batch_size=shape[0])
    assert report.total_macs * shape[0] == pytest.approx(torch_macs(model, data), rel=1e-3)
    return report


# torchvision's model cards ("GFLOPS" there are multiply-accumulates) and MMRazor 1.x's
# own figure for ResNet-50 (its FLOPs include the bias, BN and ReLU element-wise work).
@pytest.mark.parametrize('name, published_gmacs, published_mparams', [
    ('resnet18', 1.814, 11.690), ('resnet50', 4.089, 25.557), ('mobilenet_v2', 0.3008, 3.505)])
def test_torchvision_models_match_published_figures(name, published_gmacs, published_mparams):
    model = getattr(torchvision.models, name)(weights=None)
    report = check_against_torch(model)
    assert report.total_macs / 1e9 == pytest.approx(published_gmacs, rel=0.01)
    assert report.total_params / 1e6 == pytest.approx(published_mparams, rel=0.01)
    assert report.uncounted == {}


def test_resnet50_total_flops_match_mmrazor_figure():
    flops, params = get_model_flops_params(torchvision.models.resnet50(weights=None),
                                           units=dict(flops='G', params='M'))
    assert flops == pytest.approx(4.11, rel=0.01)
    assert params == pytest.approx(25.557, abs=0.001)


@pytest.fixture(scope='module')
def vit_b16():
    # the ImageNet-1k fine-tuning head (no pre-logits layer), as published figures count it
    return build_model_from_cfg_path('mmpretrain::vision_transformer/vit-base-p16_64xb64_in1k.py',
                                     backbone=dict(init_cfg=None), head=dict(hidden_dim=None))


def test_vit_b16_counts_attention(vit_b16):
    report = check_against_torch(vit_b16)
    # 17.56 G with the attention matmuls (16.85 G without), 86.57 M params
    assert report.total_macs / 1e9 == pytest.approx(17.56, rel=0.01)
    assert report.total_params / 1e6 == pytest.approx(86.57, rel=0.01)
    layer = 'backbone.layers.0.attn'
    qkv_proj = report.macs[f'{layer}.qkv'] + report.macs[f'{layer}.proj']
    assert report.macs[layer] - qkv_proj == pytest.approx(2 * 197 * 197 * 768)
    assert report.uncounted == {}


def test_swin_window_attention_is_counted():
    model = build_model_from_cfg_path('mmpretrain::swin_transformer/swin-tiny_16xb64_in1k.py',
                                      backbone=dict(init_cfg=None))
    report = check_against_torch(model)
    assert report.total_macs / 1e9 == pytest.approx(4.5, rel=0.01)  # the Swin paper: 4.5 G
    assert report.total_params / 1e6 == pytest.approx(28.29, rel=0.01)


@pytest.mark.parametrize('cfg_path, overrides, parts', [
    ('mmdet::retinanet/retinanet_r18_fpn_1x_coco.py', dict(backbone=dict(init_cfg=None)),
     ('backbone', 'neck', 'bbox_head')),
    ('mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', dict(backbone=dict(init_cfg=None)),
     ('backbone', 'neck', 'rpn_head', 'roi_head')),
    ('mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py',
     dict(backbone=dict(init_cfg=None, norm_cfg=dict(type='BN', requires_grad=True)),
          decode_head=dict(norm_cfg=dict(type='BN', requires_grad=True)),
          auxiliary_head=dict(norm_cfg=dict(type='BN', requires_grad=True))),
     ('backbone', 'decode_head')),
])
def test_detectors_and_segmentors_estimate_from_their_configs(cfg_path, overrides, parts):
    model = build_model_from_cfg_path(cfg_path, **overrides)
    estimator = TASK_UTILS.build(dict(type='ResourceEstimator', input_shape=(1, 3, 128, 160)))
    result = estimator.estimate(model)
    separate = estimator.estimate_separation_modules(
        model, flops_params_cfg=dict(spec_modules=list(parts)))
    assert result['flops'] > 0
    assert sum(separate[p]['flops'] for p in parts) == pytest.approx(result['flops'], rel=1e-3)
    report = check_against_torch(model, (1, 3, 128, 160))
    assert report.total_params == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize('cfg_path, overrides, attention', [
    ('mmdet::detr/detr_r18_8xb2-500e_coco.py', dict(backbone=dict(init_cfg=None)),
     'encoder.layers.0.self_attn.attn'),
    ('mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py',
     dict(backbone=dict(init_cfg=None), decode_head=dict(
         norm_cfg=dict(type='BN', requires_grad=True))),
     'backbone.layers.0.1.0.attn.attn'),
])
def test_mmdet_mmseg_transformer_attention_is_counted(cfg_path, overrides, attention):
    model = build_model_from_cfg_path(cfg_path, **overrides)
    report = check_against_torch(model, (1, 3, 128, 160))
    assert report.types[attention] == 'MultiheadAttention'
    assert report.macs[attention] > 0
    assert report.total_params == sum(p.numel() for p in model.parameters())


def test_algorithm_estimates_as_its_architecture():
    classifier = build_model_from_cfg_path('mmpretrain::resnet/resnet18_8xb32_in1k.py')
    algorithm = BaseAlgorithm(architecture=classifier)
    estimator = TASK_UTILS.build(dict(type='ResourceEstimator'))
    assert estimator.estimate(algorithm) == estimator.estimate(classifier)
    assert estimator.estimate(classifier)['flops'] == pytest.approx(1819.1, rel=0.01)


def test_units_and_strings():
    model = torchvision.models.resnet18(weights=None)
    raw_flops, raw_params = get_model_flops_params(model, units=None)
    assert isinstance(raw_params, int) and raw_params == 11689512
    g_flops, m_params = get_model_flops_params(model, units=dict(flops='G', params='M'))
    assert g_flops == round(raw_flops / 1e9, 3) and m_params == round(raw_params / 1e6, 3)
    k_flops, _ = get_model_flops_params(model, units=dict(flops='K', params='K'))
    assert k_flops == round(raw_flops / 1e3, 3)
    flops, params = get_model_flops_params(model, as_strings=True)
    assert flops == f'{round(raw_flops / 1e6, 3)} MFLOPs' and params == '11.69 M'
    with pytest.raises(ValueError, match="unknown flops unit 'T'; valid units: 'G', 'M'"):
        get_model_flops_params(model, units=dict(flops='T', params='M'))
    with pytest.raises(KeyError, match="unknown resource 'flop'"):
        TASK_UTILS.build(dict(type='ResourceEstimator', units=dict(flop='M')))


def test_spec_modules_sum_and_separate_return():
    model = torchvision.models.resnet18(weights=None)
    total, _ = get_model_flops_params(model, units=None)
    parts = ['conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4',
             'avgpool', 'fc']
    summed, summed_params = get_model_flops_params(model, spec_modules=parts, units=None)
    assert summed == pytest.approx(total) and summed_params == 11689512
    separate = get_model_flops_params(model, spec_modules=['layer1', 'fc'],
                                      seperate_return=True, units=None)
    assert separate['fc'] == dict(flops=512 * 1000, params=513000)
    assert separate['layer1']['params'] == sum(p.numel() for p in model.layer1.parameters())
    with pytest.raises(NameLookupError,
                       match="No module 'layer5' in ResNet; closest: layer4, layer3"):
        get_model_flops_params(model, spec_modules=['layer5'])
    with pytest.raises(ValueError, match='seperate_return=True needs spec_modules'):
        get_model_flops_params(model, seperate_return=True)
    with pytest.raises(ValueError, match='needs spec_modules'):
        TASK_UTILS.build(dict(type='ResourceEstimator')).estimate_separation_modules(model)


def test_input_shape_the_model_cannot_take_names_shape_and_layer():
    model = torchvision.models.resnet18(weights=None)
    with pytest.raises(ValueError, match=r"cannot take an input of shape \(1, 1, 64, 64\): "
                                         r"module 'conv1' \(Conv2d\) failed"):
        get_model_flops_params(model, input_shape=(1, 1, 64, 64))
    with pytest.raises(ValueError, match='input_shape must be a non-empty tuple'):
        get_model_flops_params(model, input_shape=(1, 3, -2, 2))
    classifier = build_model_from_cfg_path('mmpretrain::resnet/resnet18_8xb32_in1k.py')
    with pytest.raises(ValueError, match=r"inputs of shape \(1, 1, 64, 64\).*backbone.conv1"):
        TASK_UTILS.build(dict(type='ResourceEstimator', input_shape=(1, 1, 64, 64))
                         ).estimate(classifier)


def test_estimator_cfg_keys_are_checked():
    with pytest.raises(KeyError, match="unknown key 'spec_module' in flops_params_cfg; "
                                       'closest: spec_modules'):
        TASK_UTILS.build(dict(type='ResourceEstimator',
                              flops_params_cfg=dict(spec_module=['backbone'])))
    with pytest.raises(KeyError, match="unknown key 'max_iters' in latency_cfg; closest: max_iter"):
        TASK_UTILS.build(dict(type='ResourceEstimator')).estimate(
            nn.Linear(2, 2), latency_cfg=dict(max_iters=3))


def test_estimate_restores_training_mode():
    model = torchvision.models.resnet18(weights=None).train()
    TASK_UTILS.build(dict(type='ResourceEstimator', input_shape=(1, 3, 32, 32))).estimate(model)
    assert model.training and model.bn1.training
    running_mean = model.bn1.running_mean.clone()
    TASK_UTILS.build(dict(type='ResourceEstimator', input_shape=(1, 3, 32, 32))).estimate(model)
    assert torch.equal(running_mean, model.bn1.running_mean)  # counted in eval mode


def test_latency_reports_median_spread_batch_and_threads():
    model = torchvision.models.resnet18(weights=None)
    median, stats = get_model_latency(model, (2, 3, 64, 64), max_iter=6, num_warmup=2,
                                      repeat_num=2, return_stats=True)
    assert stats.runs == 12 and stats.warmup == 4 and stats.batch_size == 2
    assert stats.num_threads == torch.get_num_threads() and stats.device == 'cpu'
    assert stats.min <= stats.median <= stats.max and stats.iqr >= 0
    assert median == round(stats.median * 1e3, 3)
    text = get_model_latency(model, (1, 3, 64, 64), unit='s', as_strings=True, max_iter=3,
                             num_warmup=1)
    assert ' s (median of 3 runs after 1 warm-up; IQR ' in text and 'batch 1' in text
    assert 'threads, cpu)' in text
    with pytest.raises(ValueError, match="unknown latency unit 'min'"):
        get_model_latency(model, unit='min')
    with pytest.raises(ValueError, match='max_iter must be an integer >= 1'):
        get_model_latency(model, (1, 3, 32, 32), max_iter=0)


def test_estimator_measures_latency_only_when_asked():
    model = torchvision.models.resnet18(weights=None)
    estimator = TASK_UTILS.build(dict(type='ResourceEstimator', input_shape=(1, 3, 64, 64)))
    assert estimator.estimate(model)['latency'] == 0.0
    result = estimator.estimate(model, latency_cfg=dict(max_iter=4, num_warmup=1))
    assert result['latency'] > 0 and result['latency'] == result['latency_stats']['median']
    assert result['latency_stats']['runs'] == 4 and result['latency_stats']['unit'] == 'ms'
    timed = TASK_UTILS.build(dict(type='ResourceEstimator', input_shape=(1, 3, 64, 64),
                                  as_strings=True, latency_cfg=dict(max_iter=3)))
    assert 'median of 3 runs' in timed.estimate(model)['latency']


def test_print_per_layer_stat_writes_a_table_to_ost():
    model = torchvision.models.resnet18(weights=None)
    out = io.StringIO()
    flops, _ = get_model_flops_params(model, (1, 3, 64, 64), print_per_layer_stat=True,
                                      ost=out, flush=True)
    table = out.getvalue()
    assert 'layer1.0.conv1' in table and 'fc' in table  # every layer, not only the top
    assert f'{flops:,}' in table.splitlines()[-1]  # the total row is the returned figure
    silent = io.StringIO()
    get_model_flops_params(model, (1, 3, 64, 64), ost=silent)
    assert silent.getvalue() == ''


def test_input_constructor_is_what_the_model_runs_on():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 5, bias=False))
    seen = []

    def constructor(shape):
        seen.append(shape)
        return torch.randn(shape[0], 2, 6)  # another layout than input_shape says

    flops, _ = get_model_flops_params(model, (3, 4, 3), input_constructor=constructor,
                                      units=None)
    assert seen == [(3, 4, 3)] and flops == 12 * 5


@pytest.mark.parametrize('unit, scale', [('s', 1.0), ('ms', 1e3), ('us', 1e6)])
def test_every_latency_unit(unit, scale):
    model = nn.Linear(8, 8)
    value, stats = get_model_latency(model, (1, 8), unit=unit, max_iter=3, num_warmup=1,
                                     return_stats=True)
    assert value == round(stats.median * scale, 3)


# MMRazor 1.x's public signatures (spec 3.12, 3.14): same names, same defaults
MMRAZOR_SIGNATURES = {
    get_model_flops_params: dict(
        input_shape=(1, 3, 224, 224), spec_modules=[], disabled_counters=[],
        print_per_layer_stat=False, units=dict(flops='M', params='M'), as_strings=False,
        seperate_return=False, input_constructor=None),
    get_model_latency: dict(input_shape=(1, 3, 224, 224), unit='ms', as_strings=False,
                            max_iter=100, num_warmup=5, log_interval=100, repeat_num=1),
    'ResourceEstimator': dict(input_shape=(1, 3, 224, 224),
                              units=dict(flops='M', params='M', latency='ms'),
                              as_strings=False, flops_params_cfg=None, latency_cfg=None),
    'EstimateResourcesHook': dict(interval=-1, by_epoch=True, estimator_cfg=None),
    'DefaultDemoInput': dict(input_shape=None, training=False, scope=None),
}


@pytest.mark.parametrize('target', list(MMRAZOR_SIGNATURES), ids=str)
def test_public_signatures_keep_mmrazor_defaults(target):
    from mmrazor.registry import HOOKS
    func = target
    if isinstance(target, str):
        func = (TASK_UTILS.get(target) or HOOKS.get(target)).__init__
    params = inspect.signature(func).parameters
    for name, default in MMRAZOR_SIGNATURES[target].items():
        assert name in params, f'{target}: no argument {name!r}'
        assert params[name].default == default, (
            f'{target}: {name} defaults to {params[name].default!r}, MMRazor to {default!r}')
