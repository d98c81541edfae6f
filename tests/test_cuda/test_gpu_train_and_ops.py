"""On a machine with a CUDA GPU: a KD train step and an mmdet detector's inference (NMS
from mmcv's compiled ops) on the GPU. Skipped only where no CUDA device exists."""
import pytest
import torch
from mmengine.optim import OptimWrapper

from mmrazor.models.task_modules.demo_inputs import DefaultDemoInput
from mmrazor.registry import MODELS
from mmrazor.utils import build_model_from_cfg_path

from ..kd_helpers import grey_batch, kd_model_cfg

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
