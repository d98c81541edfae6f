"""On a machine with a CUDA GPU: a train step of each technique (KD, LSQ quantization-aware
training, Group Fisher pruning, SPOS) and an mmdet detector's inference (NMS from mmcv's
compiled ops) on the GPU. Skipped only where no CUDA device exists."""
import collections

import pytest
import torch
from mmengine.optim import OptimWrapper

from mmrazor.models.fake_quants import LearnableFakeQuantize, enable_param_learning
from mmrazor.models.task_modules.demo_inputs import DefaultDemoInput
from mmrazor.registry import MODELS
from mmrazor.utils import build_model_from_cfg_path

from ..kd_helpers import grey_batch, kd_model_cfg
from ..test_engine.test_quantization_loops import LSQ_QCONFIG
from ..test_models.test_algorithms import test_group_fisher as group_fisher
from ..test_models.test_algorithms import test_spos as spos
from ..test_models.test_quantizers.helpers import SKIPPED_METHODS, calibrate, small_classifier

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA device')


def test_kd_train_step_on_gpu():
    algorithm = MODELS.build(kd_model_cfg()).cuda()
    optim = OptimWrapper(torch.optim.SGD(algorithm.student.parameters(), lr=0.1))
    student = {k: v.clone() for k, v in algorithm.student.state_dict().items()}
    teacher = {k: v.clone() for k, v in algorithm.teacher.state_dict().items()}
    losses = algorithm.train_step(grey_batch(8), optim)
    assert all(torch.isfinite(v).all() for v in losses.values())
    assert 'distill.loss_kl' in losses
    after = algorithm.student.state_dict()
    assert any(not torch.equal(student[k], after[k]) for k in student)
    assert all(torch.equal(teacher[k], v) for k, v in algorithm.teacher.state_dict().items())
    assert next(algorithm.student.parameters()).is_cuda


def test_detector_predicts_with_cuda_nms():
    from mmcv.ops import get_compiling_cuda_version, nms
    assert get_compiling_cuda_version() != 'not available', \
        'mmcv was built without CUDA ops: rerun tools/install.sh on this GPU machine'
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30.]]).cuda()
    kept, _ = nms(boxes, torch.tensor([0.9, 0.8, 0.7]).cuda(), iou_threshold=0.5)
    assert kept.is_cuda and kept.shape[0] == 2
    model = build_model_from_cfg_path('mmdet::retinanet/retinanet_r18_fpn_1x_coco.py',
                                      backbone=dict(init_cfg=None)).cuda().eval()
    data = DefaultDemoInput(input_shape=(1, 3, 256, 256), kwargs=dict(mode='predict')
                            ).get_data(model)
    with torch.no_grad():
        results = model(**data)
    assert results[0].pred_instances.bboxes.is_cuda


def test_lsq_qat_learns_on_gpu_and_deploys_int8_on_cpu():
    algo = MODELS.build(dict(
        type='mmrazor.MMArchitectureQuant', architecture=small_classifier(),
        input_shapes=(1, 1, 16, 16),
        quantizer=dict(type='mmrazor.OpenVINOQuantizer', global_qconfig=LSQ_QCONFIG,
                       tracer=dict(type='mmrazor.CustomTracer',
                                   skipped_methods=SKIPPED_METHODS)))).cuda()
    algo.eval()
    calibrate(algo.qmodels['tensor'], [torch.rand(8, 1, 16, 16, device='cuda')])
    fake_quants = {n: m for n, m in algo.qmodels['tensor'].named_modules()
                   if isinstance(m, LearnableFakeQuantize)}
    estimated = {n: m.scale.detach().clone() for n, m in fake_quants.items()}
    assert all(s.is_cuda and (s != 1).all() for s in estimated.values())
    algo.train()
    algo.apply(enable_param_learning)
    weight = algo.architecture.backbone.conv1.weight.detach().clone()
    optim = OptimWrapper(torch.optim.SGD(algo.parameters(), lr=0.01))
    batch = dict(inputs=torch.rand(8, 1, 16, 16),
                 data_samples=grey_batch(8)['data_samples'])
    for _ in range(2):
        losses = algo.train_step(batch, optim)
    assert torch.isfinite(losses['loss'])
    assert not torch.equal(algo.architecture.backbone.conv1.weight, weight)
    learned = [n for n, m in fake_quants.items() if not torch.equal(m.scale, estimated[n])]
    assert len(learned) > len(fake_quants) // 2  # the step sizes are trained on the GPU
    # trained on the GPU, lowered to a real int8 model that runs on the CPU
    algo.eval()
    deploy, int8 = algo.get_deploy_model(), algo.get_int8_model()
    assert all(not t.is_cuda for t in [*int8.parameters(), *int8.buffers()])
    assert next(deploy.parameters()).is_cuda  # the algorithm's graph stays where it was
    x = torch.rand(4, 1, 16, 16)
    with torch.no_grad():
        fake, real = deploy(x.cuda()).cpu(), int8(x)
    assert (fake - real).abs().max() < 0.05 * fake.abs().max()


def test_group_fisher_prunes_one_channel_per_interval_on_gpu():
    algo = group_fisher.algorithm(interval=2).cuda()
    before = group_fisher.widths(algo)
    group_fisher.prune(algo, 4)
    assert sum(before.values()) - sum(group_fisher.widths(algo).values()) == 2
    assert all(p.is_cuda for p in algo.parameters())
    with torch.no_grad():
        assert algo(group_fisher.image().cuda(), mode='tensor').is_cuda


def test_spos_step_trains_only_the_sampled_path_on_gpu():
    algo = spos.spos().cuda()
    optim = OptimWrapper(torch.optim.SGD(algo.parameters(), lr=0.1))
    before = {k: v.clone() for k, v in algo.state_dict().items()}
    algo.train_step(grey_batch(8), optim)
    path = spos.chosen(algo)
    trained = collections.defaultdict(set)
    for key, value in algo.state_dict().items():
        if '._candidates.' in key and not torch.equal(value, before[key]):
            block, rest = key.split('._candidates.')
            trained[block].add(rest.split('.')[0])
    assert trained == {block: {choice} for block, choice in path.items()}
