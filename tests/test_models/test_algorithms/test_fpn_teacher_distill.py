"""FpnTeacherDistill on a small mmdet RetinaNet: the teacher runs backbone + neck only,
the FPN features are distilled, and ``teacher_trainable`` decides whether the teacher
learns from them."""
from typing import Dict, Set

import pytest
import torch
from mmengine.optim import OptimWrapper

from mmrazor.registry import MODELS

from ...test_configs.test_distill_configs import _det_batch


def _retinanet(width: int) -> dict:
    return dict(
        type='mmdet.RetinaNet',
        data_preprocessor=dict(type='mmdet.DetDataPreprocessor', mean=[0., 0., 0.],
                               std=[255., 255., 255.], pad_size_divisor=32),
        backbone=dict(type='mmdet.ResNet', depth=18, base_channels=width,
                      out_indices=(1, 2, 3), norm_eval=False),
        neck=dict(type='mmdet.FPN', in_channels=[2 * width, 4 * width, 8 * width],
                  out_channels=16, start_level=0, add_extra_convs='on_input',
                  num_outs=3),
        bbox_head=dict(
            type='mmdet.RetinaHead', num_classes=10, in_channels=16, stacked_convs=1,
            feat_channels=16,
            anchor_generator=dict(type='mmdet.AnchorGenerator', octave_base_scale=4,
                                  scales_per_octave=1, ratios=[1.0], strides=[8, 16, 32]),
            bbox_coder=dict(type='mmdet.DeltaXYWHBBoxCoder', target_means=[0.0] * 4,
                            target_stds=[1.0] * 4),
            loss_cls=dict(type='mmdet.FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
                          loss_weight=1.0),
            loss_bbox=dict(type='mmdet.L1Loss', loss_weight=1.0)),
        train_cfg=dict(assigner=dict(type='mmdet.MaxIoUAssigner', pos_iou_thr=0.5,
                                     neg_iou_thr=0.4, min_pos_iou=0, ignore_iof_thr=-1),
                       sampler=dict(type='mmdet.PseudoSampler'), allowed_border=-1,
                       pos_weight=-1, debug=False),
        test_cfg=dict(nms_pre=100, min_bbox_size=0, score_thr=0.05,
                      nms=dict(type='nms', iou_threshold=0.5), max_per_img=10))


def _algo(**overrides) -> torch.nn.Module:
    fpn = dict(fpn0=dict(type='ModuleOutputs', source='neck.fpn_convs.0.conv'))
    torch.manual_seed(0)
    algo = MODELS.build(dict(
        type='FpnTeacherDistill', architecture=_retinanet(8), teacher=_retinanet(16),
        distiller=dict(
            type='ConfigurableDistiller', student_recorders=fpn, teacher_recorders=fpn,
            # L1Loss keeps the teacher's gradient: a trainable teacher can learn from it
            distill_losses=dict(loss_fpn=dict(type='L1Loss', loss_weight=10)),
            loss_forward_mappings=dict(loss_fpn=dict(
                s_feature=dict(from_student=True, recorder='fpn0'),
                t_feature=dict(from_student=False, recorder='fpn0')))),
        **overrides))
    algo.train()
    return algo


def _snapshot(module: torch.nn.Module) -> Dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _changed(module: torch.nn.Module, before: Dict[str, torch.Tensor]) -> Set[str]:
    return {k.split('.')[0] for k, v in module.state_dict().items()
            if not torch.equal(v, before[k])}


def test_teacher_runs_backbone_and_neck_only_and_fpn_features_are_distilled():
    algo = _algo()
    ran = []
    for name in ('backbone', 'neck', 'bbox_head'):
        getattr(algo.teacher, name).register_forward_hook(
            lambda *_, _name=name: ran.append(_name))
    losses = algo(**algo.data_preprocessor(_det_batch(), True), mode='loss')
    assert ran == ['backbone', 'neck']
    assert not any(key.startswith('teacher.') for key in losses)
    s_fpn = algo.distiller.get_record('fpn0', from_student=True)
    t_fpn = algo.distiller.get_record('fpn0', from_student=False)
    assert s_fpn.shape == t_fpn.shape == (2, 16, 16, 16)
    assert losses['distill.loss_fpn'].item() == pytest.approx(
        10 * (s_fpn - t_fpn).abs().mean().item(), rel=1e-6)


@pytest.mark.parametrize('teacher_trainable', [False, True])
def test_teacher_trainable_decides_whether_the_teacher_learns(teacher_trainable):
    algo = _algo(teacher_trainable=teacher_trainable)
    teacher, student = _snapshot(algo.teacher), _snapshot(algo.student)
    optim = OptimWrapper(torch.optim.SGD(
        [p for p in algo.parameters() if p.requires_grad], lr=0.1))
    algo.train_step(_det_batch(), optim)
    assert {'backbone', 'neck', 'bbox_head'} <= _changed(algo.student, student)
    # the teacher's head never runs; its backbone and neck learn from the distill loss
    # (BN statistics are frozen by teacher_norm_eval)
    assert _changed(algo.teacher, teacher) == ({'backbone', 'neck'} if teacher_trainable
                                               else set())
