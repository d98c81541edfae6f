"""FxTracer (concrete values, automatic leaves) and ChannelAnalyzer's channel units."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from mmengine.config import Config

from mmrazor.models.task_modules.tracer import ChannelAnalyzer, FxTracer, trace_model
from mmrazor.registry import TASK_UTILS
from mmrazor.utils import build_model_from_config


def analyze(model: nn.Module, shape=(1, 3, 16, 16)):
    analyzer = ChannelAnalyzer(shape, tracer_type='FxTracer')
    return analyzer.analyze(model.eval()), analyzer


def frozen_reasons(analyzer: ChannelAnalyzer):
    return {layers: reason for layers, _, reason in analyzer.report()}


class NumpyRoundTrip(nn.Module):
    """Leaves torch (``torch.from_numpy`` cannot take a proxy) and holds a conv."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 1)

    def forward(self, x):
        return self.conv(torch.from_numpy(x.detach().numpy().copy()))


class ShapeAndValueBranches(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.odd = NumpyRoundTrip()

    def forward(self, x):
        if x.shape[-1] % 2:  # shape-dependent control flow
            x = F.pad(x, (0, 1))
        y = self.conv(x)
        if y.abs().sum() > 0:  # value-dependent control flow
            y = y + 1
        for _ in range(len(y)):  # len() of a traced value
            y = y * 2
        return self.odd(y)


def test_tracer_resolves_control_flow_and_makes_leaves():
    model = ShapeAndValueBranches().eval()
    x = torch.rand(2, 3, 7, 7)
    graph, tracer = trace_model(model, {'x': x})
    modules = [n.target for n in graph.nodes if n.op == 'call_module']
    assert modules == ['conv', 'odd']  # the untraceable module is one node
    assert set(tracer.auto_leaves) == {'odd'}
    assert 'TypeError' in tracer.auto_leaves['odd']
    output = next(n for n in graph.nodes if n.op == 'output').args[0]
    # every node holds its real value: the recorded output is the model's
    assert torch.allclose(output.meta['value'], model(x))


def test_tracer_method_leaf_for_untraceable_method():
    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def post_process(self, y):
            return torch.from_numpy(y.detach().numpy() * 2)  # not traceable

        def forward(self, x):
            return self.fc(x)

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = Head()

        def forward(self, x):
            return self.head.post_process(self.head(x))

    model = Model()
    x = torch.rand(3, 4)
    graph, tracer = trace_model(model, {'x': x})
    assert 'head.post_process' in tracer.auto_leaves
    output = next(n for n in graph.nodes if n.op == 'output').args[0]
    assert torch.allclose(output.meta['value'], model(x))
    assert not hasattr(model.head, '__dict__') or 'post_process' not in vars(model.head)


def test_resnet18_units_are_the_known_groups():
    units, analyzer = analyze(torchvision.models.resnet18(), (1, 3, 64, 64))
    # stem+stage-1 residual stream, 3 more residual streams, 8 block-internal widths
    assert len(units) == 12
    mid = units['layer1.0.conv1_(0, 64)_64']
    assert mid['init_args'] == {'num_channels': 64}
    assert {c['name'] for c in mid['channels']['output_related']} == \
        {'layer1.0.conv1', 'layer1.0.bn1'}
    assert {c['name'] for c in mid['channels']['input_related']} == \
        {'layer1.0.bn1', 'layer1.0.conv2'}
    stream = units['layer2.0.conv2_(0, 128)_128']
    producers = {c['name'] for c in stream['channels']['output_related']}
    assert {'layer2.0.downsample.0', 'layer2.1.conv2'} <= producers  # the residual adds
    assert frozen_reasons(analyzer)['fc'] == 'model output'


class ConcatNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 1)
        self.b = nn.Conv2d(3, 6, 1)
        self.c = nn.Conv2d(10, 8, 1)
        self.fc = nn.Linear(8 * 4 * 4, 5)

    def forward(self, x):
        y = self.c(torch.cat([self.a(x), self.b(x)], dim=1))
        return self.fc(F.adaptive_avg_pool2d(y, 4).flatten(1))


def test_concat_gives_ranges_and_flatten_gives_expand_ratio():
    units, _ = analyze(ConcatNet())
    assert set(units) == {'a_(0, 4)_4', 'b_(0, 6)_6', 'c_(0, 8)_8'}
    assert units['b_(0, 6)_6']['channels']['input_related'] == [
        dict(name='c', start=4, end=10, expand_ratio=1, is_output_channel=False)]
    assert units['c_(0, 8)_8']['channels']['input_related'] == [
        dict(name='fc', start=0, end=128, expand_ratio=16, is_output_channel=False)]


class ChunkNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 1)
        self.left = nn.Conv2d(4, 2, 1)
        self.right = nn.Conv2d(4, 2, 1)

    def forward(self, x):
        left, right = self.stem(x).chunk(2, dim=1)
        return self.left(left) + self.right(right)


def test_chunks_are_pruned_alike():
    # (a channel shuffle before the chunks: test_prune_attention_heads.py)
    units, _ = analyze(ChunkNet())
    stem = units['stem_(0, 4)_4']
    assert stem['channels']['output_related'] == [
        dict(name='stem', start=0, end=4, expand_ratio=1, is_output_channel=True),
        dict(name='stem', start=4, end=8, expand_ratio=1, is_output_channel=True)]


class UnknownOpNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 1)
        self.b = nn.Conv2d(4, 4, 1)

    def forward(self, x):
        return self.b(torch.fft.fft2(self.a(x)).real)


def test_unknown_op_freezes_its_channels():
    units, analyzer = analyze(UnknownOpNet())
    assert 'a_(0, 4)_4' not in units
    assert frozen_reasons(analyzer)['a'] == "unknown op 'fft_fft2'"


def test_leaf_hiding_prunable_layers_warns_with_names():
    model = nn.Sequential(nn.Conv2d(3, 4, 1), NumpyRoundTrip())
    with pytest.warns(UserWarning, match=r"1 \(1: 1.conv\)") as record:
        analyze(model)
    assert 'TypeError' in str(record[0].message)


def test_mmpretrain_classifier_units_use_mmrazor_names():
    model = build_model_from_config(Config(dict(model=dict(
        _scope_='mmpretrain', type='ImageClassifier',
        backbone=dict(type='ResNet', depth=18),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=512)))))
    analyzer = TASK_UTILS.build(dict(type='ChannelAnalyzer', demo_input=(1, 3, 64, 64)))
    assert analyzer.tracer_type == 'BackwardTracer'  # MMRazor's default name works
    units = analyzer.analyze(model)
    assert 'backbone.layer1.0.conv1_(0, 64)_64' in units  # MMRazor's example name
    assert len(units) == 12
    assert analyzer.auto_leaves == {}


@pytest.mark.parametrize('cfg', ['mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
                                 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'])
def test_detectors_trace_with_automatic_leaves(cfg):
    from mmengine.hub import get_config
    config = get_config(cfg)
    config.model.backbone.init_cfg = None
    model = build_model_from_config(config)
    analyzer = ChannelAnalyzer((1, 3, 128, 128), tracer_type='FxTracer')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        units = analyzer.analyze(model)
    assert 'backbone.layer1.0.conv1_(0, 64)_64' in units
    if 'retina' in cfg:
        # the FPN's output channels are shared by every level and the head: one unit
        fpn = [u for name, u in units.items() if name.startswith('neck.fpn_convs.0')]
        assert len(fpn) == 1
        producers = {c['name'] for c in fpn[0]['channels']['output_related']}
        assert {f'neck.fpn_convs.{i}.conv' for i in range(5)} <= producers
    else:
        # RoI extraction (an mmcv op) cannot be traced: it becomes a leaf, and the FPN
        # channels it reads are frozen, with that reason, instead of pruned wrongly
        assert any('rpn_head' in leaf for leaf in analyzer.auto_leaves)
        reasons = {layers: reason for layers, _, reason in analyzer.report()}
        fpn = next(layers for layers in reasons if 'neck.fpn_convs.0.conv' in layers)
        assert 'RoIAlign' in reasons[fpn]
        assert any(name.startswith('roi_head.bbox_head.shared_fcs.1') for name in units)


def test_bad_tracer_type():
    with pytest.raises(ValueError, match='FxTracer, BackwardTracer'):
        ChannelAnalyzer(tracer_type='Fx')


def test_unit_ranks_follow_the_producer():
    units, _ = analyze(ConcatNet())
    for unit in units.values():
        for channel in unit['channels']['input_related'] + unit['channels']['output_related']:
            span = channel['end'] - channel['start']
            assert span == unit['init_args']['num_channels'] * channel['expand_ratio']
    assert np.all([isinstance(FxTracer().leaf_module_types, tuple)])


class SizeAsShape(nn.Module):
    """``c = x.shape[1]`` builds another tensor's shape (as MaxViT's attention does)."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 8, 1)
        self.b = nn.Conv2d(8, 8, 1)
        self.se = nn.Conv2d(8, 8, 1)

    def forward(self, x):
        x = self.a(x)
        b, c, h, w = x.shape
        gate = self.b(x).mean(1, keepdim=True).expand(b, c, h, w)  # c from a's channels
        pooled = x.mean((2, 3)).view(b, c, 1, 1)  # c where a's channels stay: fine
        return x * gate + self.se(pooled)


def test_channel_count_used_as_another_tensors_size_freezes():
    units, analyzer = analyze(SizeAsShape())
    # a's channels size the expanded gate (a fixed count): they stay, with a reason
    assert not any(name.startswith('a_') for name in units)
    assert frozen_reasons(analyzer)['a, b, se'] in (
        'channel count used as a size by expand', 'mul: meets channels it cannot prune')
    assert 'b_(0, 8)_8' in units


def test_channel_count_reused_where_channels_stay_is_prunable():
    class SqueezeExcite(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Conv2d(3, 8, 1)
            self.fc = nn.Linear(8, 8)
            self.out = nn.Conv2d(8, 4, 1)

        def forward(self, x):
            x = self.a(x)
            b, c, _, _ = x.size()
            scale = self.fc(x.mean((2, 3)).view(b, c)).sigmoid().view(b, c, 1, 1)
            return self.out(x * scale)

    units, _ = analyze(SqueezeExcite())
    assert 'a_(0, 8)_8' in units
    names = {ch['name'] for ch in units['a_(0, 8)_8']['channels']['output_related']}
    assert names == {'a', 'fc'}


def test_model_broken_in_tensor_mode_is_traced_in_predict_mode():
    """mmseg's PointRend fails in 'tensor' mode upstream; its 'predict' path passes
    ConfigDicts to methods that become leaves (they must arrive intact)."""
    from mmengine.hub import get_config
    config = get_config('mmseg::point_rend/pointrend_r50_4xb2-80k_cityscapes-512x1024.py')
    config.model.backbone.init_cfg = None
    config.model.pretrained = None
    model = build_model_from_config(config)
    analyzer = ChannelAnalyzer((1, 3, 64, 64), tracer_type='FxTracer')
    with pytest.warns(UserWarning, match="tracing its 'predict' mode"):
        units = analyzer.analyze(model)
    assert 'backbone.layer1.0.conv1_(0, 64)_64' in units
    assert any(name.startswith('neck.') for name in units)
    assert set(analyzer.auto_leaves) <= {'decode_head.1.get_points_test', 'postprocess_result'}


def analyses_both_ways(model: nn.Module, demo_input):
    """(units, report) traced on meta tensors first (the default) and always for real."""
    results = []
    for on_meta in (True, False):
        analyzer = ChannelAnalyzer(demo_input, tracer_type='FxTracer')
        analyzer.trace_on_meta = on_meta
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            results.append((analyzer.analyze(model), analyzer.report(), analyzer.auto_leaves))
    return results


def test_meta_trace_has_shapes_without_data_and_leaves_the_model_alone():
    model = torchvision.models.resnet18().eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    graph, tracer = trace_model(model, {'x': torch.rand(2, 3, 32, 32)}, on_meta=True)
    output = next(n for n in graph.nodes if n.op == 'output').args[0].meta['value']
    assert output.device.type == 'meta' and output.shape == (2, 1000)
    # the swap is only for the trace: real parameters and buffers, unchanged
    assert all(v.device.type == 'cpu' and torch.equal(v, state[k])
               for k, v in model.state_dict().items())
    assert all(isinstance(p, nn.Parameter) for p in model.parameters())


@pytest.mark.parametrize('build', [
    lambda: torchvision.models.mobilenet_v3_small(),
    lambda: torchvision.models.shufflenet_v2_x0_5(),
    lambda: build_model_from_config(Config(dict(model=dict(
        _scope_='mmpretrain', type='ImageClassifier',
        backbone=dict(type='VisionTransformer', arch='deit-tiny', img_size=32,
                      patch_size=8),
        neck=None, head=dict(type='VisionTransformerClsHead', num_classes=10,
                             in_channels=192)))))])
def test_meta_trace_gives_the_real_traces_units(build):
    model = build().eval()
    demo = (1, 3, 32, 32)
    (meta_units, meta_report, _), (real_units, real_report, _) = analyses_both_ways(
        model, demo)
    inputs = ChannelAnalyzer(demo).demo_inputs(model)
    assert ChannelAnalyzer._trace_on_meta(model, *inputs) is not None  # meta was used
    assert meta_units == real_units and meta_report == real_report
    assert len(real_units) > 3


def test_data_dependent_model_falls_back_to_a_real_trace():
    model = ShapeAndValueBranches().eval()
    assert ChannelAnalyzer._trace_on_meta(model, {'x': torch.rand(1, 3, 7, 7)}, {}) is None
    (meta_units, _, meta_leaves), (real_units, _, real_leaves) = analyses_both_ways(
        model, (1, 3, 7, 7))
    # same result as the real trace, including the leaf only the real run can find
    assert meta_units == real_units and meta_leaves == real_leaves == {
        'odd': real_leaves['odd']}


class TokenNet(nn.Module):
    """Token and position embeddings added, normalized, then an MLP."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens = nn.Embedding(50, 16)
        self.positions = nn.Embedding(8, 16)
        self.norm = nn.LayerNorm(16)
        self.fc = nn.Linear(16, 32)
        self.out = nn.Linear(32, 4)

    def forward(self, ids):
        x = self.tokens(ids) + self.positions(torch.arange(ids.shape[1]))
        return self.out(self.fc(self.norm(x)).relu()).mean(1)


def test_embedding_dims_are_pruned_with_what_they_meet():
    from mmrazor.models.mutators import ChannelMutator
    from mmrazor.structures import export_fix_subnet
    torch.manual_seed(0)
    model = TokenNet().eval()
    ids = torch.randint(0, 50, (1, 8))
    analyzer = ChannelAnalyzer(demo_input=ids, tracer_type='FxTracer')
    units = analyzer.analyze(model)
    embed = units['tokens_(0, 16)_16']['channels']
    assert [c['name'] for c in embed['output_related']] == ['tokens', 'positions', 'norm']
    mutator = ChannelMutator(
        channel_unit_cfg=dict(type='L1MutableChannelUnit',
                              default_args=dict(choice_mode='ratio')),
        parse_cfg=dict(type='ChannelAnalyzer', demo_input=ids, tracer_type='FxTracer'))
    wrapper = nn.Module()
    wrapper.architecture, wrapper.mutator = model, mutator
    mutator.prepare_from_supernet(model)
    mutator.set_choices({'tokens_(0, 16)_16': 0.5, 'fc_(0, 32)_32': 0.75})
    ids = torch.randint(0, 50, (3, 8))
    with torch.no_grad():
        expected = model(ids)
        _, static = export_fix_subnet(wrapper, 'mutator', slice_weight=True)
        got = static(ids)
    assert (got - expected).abs().max() <= 1e-6
    assert static.tokens.embedding_dim == static.positions.embedding_dim == 8
    assert static.fc.out_features == 24
