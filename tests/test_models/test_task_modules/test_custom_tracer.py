"""CustomTracer: graphs that run again on any batch, with MMRazor's skip options."""
import pytest
import torch
import torch.fx as fx
from mmpretrain.structures import DataSample

from mmrazor.models.task_modules.tracer import CustomTracer, trace_model
from mmrazor.registry import TASK_UTILS
from mmrazor.utils.lookup import ImportPathError

from ..test_quantizers.helpers import SKIPPED_METHODS, small_classifier


def _samples(num):
    return [DataSample().set_gt_label(i % 10) for i in range(num)]


def _graph(model, mode, tracer, num=1):
    graph, tracer = trace_model(model, {'inputs': torch.rand(num, 1, 16, 16),
                                        'data_samples': _samples(num)}, {'mode': mode},
                                tracer=tracer)
    return fx.GraphModule(model, graph), tracer


@pytest.mark.parametrize('mode', ['tensor', 'loss', 'predict'])
def test_graph_traced_on_one_sample_runs_on_any_batch(mode):
    model = small_classifier()
    gm, tracer = _graph(model, mode, CustomTracer())
    x, samples = torch.rand(5, 1, 16, 16), _samples(5)
    with torch.no_grad():
        out, expected = gm(x, samples, mode), model(x, samples, mode=mode)
    if mode == 'tensor':
        torch.testing.assert_close(out, expected)
    elif mode == 'loss':
        torch.testing.assert_close(out['loss'], expected['loss'])
    else:  # without the guard, the per-sample loop would be unrolled for 1 sample
        assert len(out) == 5
        assert 'head._get_predictions' in tracer.auto_leaves
        assert 'BatchSpecialisation' in tracer.auto_leaves['head._get_predictions']
        for got, want in zip(out, expected):
            torch.testing.assert_close(got.pred_score, want.pred_score)


def test_skipped_methods_modules_and_classes_become_single_calls():
    model = small_classifier()
    tracer = TASK_UTILS.build(dict(
        type='mmrazor.CustomTracer', skipped_methods=SKIPPED_METHODS,
        skipped_module_names=['neck'],
        skipped_module_classes=['mmpretrain.models.backbones.resnet.BasicBlock']))
    gm, tracer = _graph(model, 'loss', tracer)
    targets = [str(n.target) for n in gm.graph.nodes if n.op in ('call_module',
                                                                 'call_function')]
    assert 'neck' in targets
    assert 'backbone.layer1.0' in targets and 'backbone.layer1.0.conv1' not in targets
    assert any('head._get_loss' in t for t in targets)
    assert tracer.auto_leaves == {}  # nothing had to be found by failing


def test_bad_skip_options_say_what_is_wrong():
    with pytest.raises(ImportPathError, match='ClsHeed'):
        CustomTracer(skipped_methods=['mmcls.models.heads.ClsHeed._get_loss'])
    with pytest.raises(ValueError, match="not a method of a class"):
        CustomTracer(skipped_methods=['torch.nn.functional.relu'])
    with pytest.raises(TypeError, match='not an nn.Module class'):
        CustomTracer(skipped_module_classes=['torch.nn.functional.relu'])
    with pytest.raises(ValueError, match="no submodule 'nek'.*neck"):
        _graph(small_classifier(), 'tensor', CustomTracer(skipped_module_names=['nek']))
