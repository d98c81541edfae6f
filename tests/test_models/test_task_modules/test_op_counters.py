"""The counting mechanism layer by layer: each counter's figure against an independent
count (``torch.utils.flop_counter.FlopCounterMode`` for MACs, the formula otherwise),
attention matmuls, dynamic ops at their current width, unknown layers, user counters."""
import warnings

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from mmrazor.models.task_modules.estimators import (
    BaseCounter,
    Cost,
    count_flops_params,
    get_model_flops_params,
)
from mmrazor.registry import TASK_UTILS


def reference_macs(model: nn.Module, x, **kwargs) -> float:
    """Multiply-accumulates by torch's own counter (it counts 2 FLOPs per MAC)."""
    # FlopCounterMode counts nothing for the CPU kernel of scaled_dot_product_attention;
    # on the math kernel it sees the two matmuls
    with torch.no_grad(), sdpa_kernel([SDPBackend.MATH]), FlopCounterMode(display=False) as counter:
        model(x, **kwargs) if x is not None else model(**kwargs)
    return counter.get_total_flops() / 2


def count(model: nn.Module, x: torch.Tensor, **kwargs):
    model.eval()
    return count_flops_params(model, x, batch_size=x.shape[0], **kwargs)


@pytest.mark.parametrize('layer, shape', [
    (nn.Conv1d(4, 8, 3, bias=False), (2, 4, 16)),
    (nn.Conv2d(4, 8, 3, stride=2, groups=2, bias=False), (2, 4, 16, 16)),
    (nn.Conv2d(8, 8, 3, groups=8, bias=False), (2, 8, 16, 16)),  # depthwise
    (nn.Conv3d(2, 4, 3, bias=False), (1, 2, 6, 6, 6)),
    (nn.ConvTranspose2d(4, 6, 3, stride=2, bias=False), (2, 4, 8, 8)),
    (nn.ConvTranspose1d(4, 6, 3, groups=2, bias=False), (2, 4, 8)),
    (nn.Linear(12, 7, bias=False), (3, 5, 12)),
])
def test_mac_layers_match_flop_counter_mode(layer, shape):
    x = torch.randn(shape)
    report = count(layer, x)
    assert report.total_macs * shape[0] == pytest.approx(reference_macs(layer, x))
    assert report.total_params == sum(p.numel() for p in layer.parameters())


def test_conv_bias_is_one_elementwise_flop_per_output():
    conv = nn.Conv2d(3, 8, 3)
    report = count(conv, torch.randn(1, 3, 10, 10))
    assert report.total_macs == 8 * 8 * 8 * 27
    assert report.total_flops - report.total_macs == 8 * 8 * 8


@pytest.mark.parametrize('layer, shape, per_element', [
    (nn.BatchNorm2d(4), (2, 4, 5, 5), 2), (nn.BatchNorm2d(4, affine=False), (2, 4, 5, 5), 1),
    (nn.BatchNorm1d(4), (3, 4), 2), (nn.BatchNorm3d(2), (1, 2, 3, 3, 3), 2),
    (nn.InstanceNorm2d(4, affine=True), (2, 4, 5, 5), 2), (nn.InstanceNorm1d(4), (2, 4, 5), 1),
    (nn.LayerNorm(5), (2, 4, 5), 2), (nn.LayerNorm(5, elementwise_affine=False), (2, 4, 5), 1),
    (nn.GroupNorm(2, 4), (2, 4, 5, 5), 2),
    (nn.ReLU(), (2, 4, 5), 1), (nn.PReLU(), (2, 4, 5), 1), (nn.ELU(), (2, 4, 5), 1),
    (nn.LeakyReLU(), (2, 4, 5), 1), (nn.ReLU6(), (2, 4, 5), 1), (nn.GELU(), (2, 4, 5), 1),
    (nn.SiLU(), (2, 4, 5), 1), (nn.Hardswish(), (2, 4, 5), 1), (nn.Sigmoid(), (2, 4, 5), 1),
    (nn.Softmax(-1), (2, 4, 5), 1),
    (nn.MaxPool2d(2), (2, 4, 8, 8), 1), (nn.AvgPool1d(2), (2, 4, 8), 1),
    (nn.MaxPool3d(2), (1, 2, 4, 4, 4), 1), (nn.AvgPool2d(2), (2, 4, 8, 8), 1),
    (nn.AdaptiveAvgPool2d(1), (2, 4, 8, 8), 1), (nn.AdaptiveMaxPool1d(2), (2, 4, 8), 1),
    (nn.AdaptiveAvgPool3d(1), (1, 2, 4, 4, 4), 1), (nn.AdaptiveMaxPool2d(3), (2, 4, 9, 9), 1),
])
def test_elementwise_layers(layer, shape, per_element):
    x = torch.randn(shape)
    report = count(layer, x)
    assert report.total_macs == 0
    # per sample: FLOPs are divided by the batch size
    assert report.total_flops * shape[0] == per_element * x.numel()


@pytest.mark.parametrize('layer', [nn.Upsample(scale_factor=2, mode='bilinear'),
                                   nn.UpsamplingNearest2d(scale_factor=3)])
def test_upsample_counts_output_elements(layer):
    x = torch.randn(2, 3, 4, 4)
    report = count(layer, x)
    assert report.total_flops * 2 == layer(x).numel()


@pytest.mark.parametrize('batch_first', [False, True])
def test_multihead_attention_counts_projections_and_matmuls(batch_first):
    attn = nn.MultiheadAttention(32, 4, kdim=24, vdim=16, batch_first=batch_first).eval()
    q = torch.randn(7, 2, 32)
    k, v = torch.randn(9, 2, 24), torch.randn(9, 2, 16)
    if batch_first:
        q, k, v = (t.transpose(0, 1) for t in (q, k, v))
    report = count_flops_params(attn, dict(query=q, key=k, value=v), batch_size=2)
    reference = reference_macs(attn, None, query=q, key=k, value=v)
    assert report.total_macs * 2 == pytest.approx(reference)
    matmuls = 2 * 2 * 7 * 9 * 32  # Q @ K^T and A @ V over all heads, batch 2
    assert report.total_macs * 2 > matmuls


class WindowAttention(nn.Module):
    """Attention written with ``@`` and einsum, as Swin and many custom blocks are."""

    def __init__(self, dim: int = 16, heads: int = 2) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1)).softmax(-1)
        mixed = torch.einsum('bhij,bhjd->bhid', attn, v)
        sdpa = F.scaled_dot_product_attention(q, k, v)
        return self.proj((mixed + sdpa).transpose(1, 2).reshape(b, n, c))


def test_functional_attention_matmuls_are_counted():
    block = WindowAttention().eval()
    x = torch.randn(2, 10, 16)
    report = count(block, x)
    assert report.total_macs * 2 == pytest.approx(reference_macs(block, x))
    linears = 2 * 10 * 16 * (48 + 16)  # batch x tokens x in x out
    one_matmul = 2 * 2 * 10 * 10 * 8  # batch x heads x tokens x tokens x head dim
    attention = 4 * one_matmul  # q @ k^T, the einsum, and the SDPA's two matmuls
    assert report.total_macs * 2 == linears + attention  # per sample: / batch 2
    # the matmuls are credited to the module that ran them
    assert report.macs[''] - report.macs['qkv'] - report.macs['proj'] == attention / 2


class SlicedConv2d(nn.Conv2d):
    """A dynamic conv: computes with the first ``active_out``/``active_in`` channels."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.active_in, self.active_out = self.in_channels, self.out_channels

    def active_parameters(self):
        params = dict(weight=self.weight[:self.active_out, :self.active_in])
        if self.bias is not None:
            params['bias'] = self.bias[:self.active_out]
        return params

    def forward(self, x):
        params = self.active_parameters()
        return F.conv2d(x, params['weight'], params.get('bias'), self.stride, self.padding)


def test_dynamic_op_counts_its_current_width():
    dynamic = SlicedConv2d(16, 32, 3, padding=1)
    dynamic.active_in, dynamic.active_out = 8, 12
    static = nn.Conv2d(8, 12, 3, padding=1)
    x = torch.randn(2, 8, 9, 9)
    dynamic_report, static_report = count(dynamic, x), count(static, x)
    assert dynamic_report.total_flops == static_report.total_flops
    assert dynamic_report.total_params == static_report.total_params == 12 * 8 * 9 + 12
    # and through the estimator, which gets the width from the active parameters
    flops, params = get_model_flops_params(dynamic, (2, 8, 9, 9), units=None)
    assert (flops, params) == (static_report.total_flops, 12 * 8 * 9 + 12)


class Cube(nn.Module):
    """A layer type no counter knows."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return x ** 3 * self.scale


def test_unknown_layer_counts_zero_and_is_named_once_in_a_warning():
    model = nn.Sequential(nn.Linear(4, 4), Cube(), Cube(), nn.Linear(4, 2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        report = count(model, torch.randn(1, 4))
    messages = [str(w.message) for w in caught if 'No FLOPs counter' in str(w.message)]
    assert len(messages) == 1
    assert 'Cube (2: 1, 2)' in messages[0] and 'TASK_UTILS' in messages[0]
    assert report.uncounted == {'Cube': ['1', '2']}
    assert report.flops['1'] == 0 and report.total_flops == 4 * 4 + 4 * 2
    assert report.params['1'] == 1 and report.total_params == 20 + 10 + 2


def test_registered_counter_counts_a_new_layer_type_and_can_be_disabled():

    class CubeCounter(BaseCounter):
        module_type = Cube

        @classmethod
        def count_flops(cls, module, inputs, kwargs, output) -> Cost:
            return Cost(0, 3 * output.numel())

    TASK_UTILS.register_module(module=CubeCounter)
    try:
        model = nn.Sequential(nn.Linear(4, 4), Cube())
        with warnings.catch_warnings():
            warnings.simplefilter('error')  # no "unknown layer" warning any more
            report = count(model, torch.randn(2, 4))
        assert report.flops['1'] == 3 * 4 and report.uncounted == {}
        disabled = count(model, torch.randn(2, 4), disabled_counters=['CubeCounter'])
        assert disabled.flops['1'] == 0 and disabled.params['1'] == 0
        assert disabled.total_flops == 16
    finally:
        TASK_UTILS.module_dict.pop('CubeCounter')


def test_mmrazor_1x_style_counter_with_add_count_hook_still_works():
    # the example of MMRazor 1.x's ResourceEstimator docstring, as a user wrote it
    class CustomModule(nn.Module):
        def forward(self, x):
            return x

    class CustomModuleCounter(BaseCounter):
        @staticmethod
        def add_count_hook(module, input, output):
            module.__flops__ += 1000000
            module.__params__ += 700000

    TASK_UTILS.register_module(module=CustomModuleCounter)
    try:
        model = CustomModule()
        estimator = TASK_UTILS.build(dict(type='ResourceEstimator'))
        result = estimator.estimate(model, flops_params_cfg=dict(input_shape=(1, 3, 64, 64)))
        assert result == {'flops': 1.0, 'params': 0.7, 'latency': 0.0}
        assert '__flops__' not in vars(model)  # the counting attributes are cleaned up
        result = estimator.estimate(
            model, flops_params_cfg=dict(input_shape=(1, 3, 64, 64),
                                         disabled_counters=['CustomModuleCounter']))
        assert result == {'flops': 0.0, 'params': 0.0, 'latency': 0.0}
    finally:
        TASK_UTILS.module_dict.pop('CustomModuleCounter')


def test_disabled_counter_removes_exactly_its_layers():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3), nn.ReLU()).eval()
    x = torch.randn(1, 3, 8, 8)
    full = count(model, x)
    without_relu = count(model, x, disabled_counters=['ReLUCounter'])
    assert full.total_flops - without_relu.total_flops == 4 * 6 * 6 + 4 * 4 * 4
    assert full.total_params == without_relu.total_params


def test_unknown_disabled_counter_is_a_clear_error():
    with pytest.raises(KeyError, match="'ReluCounter'.*closest: ReLUCounter"):
        count(nn.ReLU(), torch.randn(1, 2), disabled_counters=['ReluCounter'])


def test_shared_parameters_are_counted_once():
    linear = nn.Linear(8, 8)
    model = nn.Sequential(linear, nn.ReLU(), linear)
    report = count(model, torch.randn(1, 8))
    assert report.total_params == 72
    assert report.total_macs == 2 * 64  # but it runs twice


def test_hooks_are_removed_after_counting_and_after_a_failure():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    count(model, torch.randn(1, 3, 8, 8))
    with pytest.raises(ValueError):
        count(model, torch.randn(1, 5, 8, 8))
    for module in model.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks
        assert not [k for k in vars(module) if k.startswith('_mmrazor')]


class TwoNames(nn.Module):
    """One conv registered as ``conv`` and again as ``alias``, run once."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1, bias=False)
        self.alias = self.conv

    def forward(self, x):
        return self.alias(x)


def test_a_module_registered_under_two_names_is_counted_once_per_call():
    report = count(TwoNames(), torch.randn(1, 2, 4, 4))
    assert report.total_macs == 2 * 16 * 2 and report.total_params == 4
    assert report.flops['conv'] == report.total_macs and 'alias' not in report.flops
