# Channel-wise Distillation (Shu et al., ICCV 2021) of the five FPN levels of
# RetinaNet on COCO: ResNet-101 teacher -> ResNet-50 student. FpnTeacherDistill runs
# only the teacher's backbone and neck.
_base_ = [
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py'
]

# Released mmdet weights (https://download.openmmlab.com/mmdetection/v2.0/retinanet/
# retinanet_r101_fpn_2x_coco/retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth):
# download once, then point here.
teacher_ckpt = 'checkpoints/retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth'

model = dict(
    _scope_='mmrazor',
    type='FpnTeacherDistill',
    architecture=dict(
        cfg_path='mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
        pretrained=False),
    teacher=dict(
        cfg_path='mmdet::retinanet/retinanet_r101_fpn_2x_coco.py',
        pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='ConfigurableDistiller',
        # the FPN's output convs (no norm, no activation): one per level P3-P7
        student_recorders=dict(
            fpn0=dict(type='ModuleOutputs', source='neck.fpn_convs.0.conv'),
            fpn1=dict(type='ModuleOutputs', source='neck.fpn_convs.1.conv'),
            fpn2=dict(type='ModuleOutputs', source='neck.fpn_convs.2.conv'),
            fpn3=dict(type='ModuleOutputs', source='neck.fpn_convs.3.conv'),
            fpn4=dict(type='ModuleOutputs', source='neck.fpn_convs.4.conv')),
        teacher_recorders=dict(
            fpn0=dict(type='ModuleOutputs', source='neck.fpn_convs.0.conv'),
            fpn1=dict(type='ModuleOutputs', source='neck.fpn_convs.1.conv'),
            fpn2=dict(type='ModuleOutputs', source='neck.fpn_convs.2.conv'),
            fpn3=dict(type='ModuleOutputs', source='neck.fpn_convs.3.conv'),
            fpn4=dict(type='ModuleOutputs', source='neck.fpn_convs.4.conv')),
        distill_losses=dict(
            loss_cwd_fpn0=dict(type='ChannelWiseDivergence', tau=1, loss_weight=10),
            loss_cwd_fpn1=dict(type='ChannelWiseDivergence', tau=1, loss_weight=10),
            loss_cwd_fpn2=dict(type='ChannelWiseDivergence', tau=1, loss_weight=10),
            loss_cwd_fpn3=dict(type='ChannelWiseDivergence', tau=1, loss_weight=10),
            loss_cwd_fpn4=dict(type='ChannelWiseDivergence', tau=1, loss_weight=10)),
        loss_forward_mappings=dict(
            loss_cwd_fpn0=dict(
                preds_S=dict(from_student=True, recorder='fpn0'),
                preds_T=dict(from_student=False, recorder='fpn0')),
            loss_cwd_fpn1=dict(
                preds_S=dict(from_student=True, recorder='fpn1'),
                preds_T=dict(from_student=False, recorder='fpn1')),
            loss_cwd_fpn2=dict(
                preds_S=dict(from_student=True, recorder='fpn2'),
                preds_T=dict(from_student=False, recorder='fpn2')),
            loss_cwd_fpn3=dict(
                preds_S=dict(from_student=True, recorder='fpn3'),
                preds_T=dict(from_student=False, recorder='fpn3')),
            loss_cwd_fpn4=dict(
                preds_S=dict(from_student=True, recorder='fpn4'),
                preds_T=dict(from_student=False, recorder='fpn4')))))

find_unused_parameters = True

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')

# optimizer
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))
