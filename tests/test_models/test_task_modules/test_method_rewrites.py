"""Traceable twins of mmdet's ``BaseDenseHead.predict`` / ``.loss``: a detector's
``predict`` and ``loss`` graphs contain the head's layers, so quantization covers the
head in every mode (before, the whole method was one leaf and the head ran float)."""
import copy
import os.path as osp

import torch
from mmdet.models.dense_heads import RetinaHead
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch.ao.quantization import (
    disable_fake_quant,
    disable_observer,
    enable_fake_quant,
    enable_observer,
)

from mmrazor.models.task_modules.tracer import CustomTracer
from mmrazor.models.task_modules.tracer.method_rewrites import BaseDenseHeadTwin
from mmrazor.registry import MODELS
from tests.conftest import REPO_ROOT

RETINA_PTQ = osp.join(REPO_ROOT, 'configs', 'quantization', 'ptq', 'base',
                      'ptq_openvino_retina_r50_1x_coco_calib32xb32.py')


def _retina_quant() -> torch.nn.Module:
    cfg = Config.fromfile(RETINA_PTQ)
    cfg.model.float_checkpoint = None
    cfg.model.input_shapes = (1, 3, 128, 128)
    torch.manual_seed(0)
    return MODELS.build(cfg.model).eval()


def _batch(model: torch.nn.Module) -> dict:
    """Two images of other sizes than the demo batch the graphs were traced on."""
    return model.data_preprocessor(demo_mm_inputs(2, [(3, 128, 128), (3, 96, 128)]), False)


def _head_modules(graph) -> dict:
    return {n.target: graph.get_submodule(n.target) for n in graph.graph.nodes
            if n.op == 'call_module' and str(n.target).startswith('bbox_head')}


def _predictions(run, data: dict) -> list:
    with torch.no_grad():  # fresh data samples: predict writes its results into them
        out = run(data['inputs'], copy.deepcopy(data['data_samples']), mode='predict')
    return [o.pred_instances for o in out]


def test_predict_and_loss_graphs_run_the_heads_fake_quantized_layers():
    model = _retina_quant()
    tensor_head = _head_modules(model.qmodels['tensor'])
    assert len(tensor_head) > 50
    for mode in ('predict', 'loss'):
        graph = model.qmodels[mode]
        leaves = [repr(n.target) for n in graph.graph.nodes if n.op == 'call_function'
                  and 'MethodLeaf' in repr(n.target)]
        assert f'MethodLeaf(bbox_head.{mode})' not in leaves
        head = _head_modules(graph)
        assert head.keys() == tensor_head.keys()
        assert all(head[name] is tensor_head[name] for name in head)  # shared modules


def test_predict_graph_is_the_float_detector_and_what_deploys():
    model, architecture = _retina_quant(), None
    architecture = model.architecture
    data = _batch(model)
    model.apply(disable_observer)
    model.apply(disable_fake_quant)
    ours, floats = _predictions(model, data), _predictions(architecture, data)
    for a, b in zip(ours, floats):  # BN folded into the convs: float rounding only
        assert torch.equal(a.labels, b.labels)
        torch.testing.assert_close(a.scores, b.scores, atol=1e-5, rtol=0)
        torch.testing.assert_close(a.bboxes, b.bboxes, atol=1e-3, rtol=0)
    model.apply(enable_observer)
    with torch.no_grad():
        model(data['inputs'], None, mode='tensor')  # calibrate
    model.apply(disable_observer)
    model.apply(enable_fake_quant)
    quantized = _predictions(model, data)
    assert any(not torch.equal(a.scores, b.scores) for a, b in zip(quantized, floats))
    # what predict (validation) measures is the deploy graph plus post-processing
    with torch.no_grad():
        outs = model(data['inputs'], None, mode='tensor')
        metas = [sample.metainfo for sample in data['data_samples']]
        deployed = architecture.bbox_head.predict_by_feat(*outs, batch_img_metas=metas,
                                                          rescale=True)
    for a, b in zip(quantized, deployed):
        assert torch.equal(a.scores, b.scores) and torch.equal(a.bboxes, b.bboxes)


def test_loss_graph_observes_and_trains_the_head():
    model = _retina_quant().train()
    data = _batch(model)
    observer = model.qmodels['tensor'].bbox_head_retina_cls_qat_post_act_fake_quant
    assert torch.isinf(observer.activation_post_process.min_val)  # nothing seen yet
    model.apply(enable_observer)
    losses = model(data['inputs'], data['data_samples'], mode='loss')
    assert torch.isfinite(observer.activation_post_process.min_val)
    sum(sum(value) for value in losses.values()).backward()
    assert model.architecture.bbox_head.retina_cls.weight.grad.abs().sum() > 0


def test_twins_replace_only_the_upstream_methods():
    class OwnPredict(RetinaHead):
        def predict(self, x, batch_data_samples, rescale=False):
            return super().predict(x, batch_data_samples, rescale)

    sizes = dict(num_classes=2, in_channels=8, feat_channels=8, stacked_convs=1)
    with DefaultScope.overwrite_default_scope('mmdet'):  # the head builds its coders
        heads = torch.nn.ModuleDict(dict(inherited=RetinaHead(**sizes),
                                         own=OwnPredict(**sizes)))
    patched = {(module, method): function.__func__ for module, method, function
               in CustomTracer().method_patches(heads).values()}
    assert patched == {(heads['inherited'], 'predict'): BaseDenseHeadTwin.predict,
                       (heads['inherited'], 'loss'): BaseDenseHeadTwin.loss,
                       (heads['own'], 'loss'): BaseDenseHeadTwin.loss}
