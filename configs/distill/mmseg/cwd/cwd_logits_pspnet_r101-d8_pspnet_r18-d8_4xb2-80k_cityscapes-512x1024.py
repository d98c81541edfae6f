# Channel-wise Distillation (Shu et al., ICCV 2021) of the segmentation logits on
# Cityscapes: PSPNet ResNet-101-D8 teacher -> PSPNet ResNet-18-D8 student.
_base_ = [
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/schedules/schedule_80k.py',
    'mmseg::_base_/default_runtime.py'
]

# Released mmseg weights (https://download.openmmlab.com/mmsegmentation/v0.5/pspnet/
# pspnet_r101-d8_512x1024_80k_cityscapes/
# pspnet_r101-d8_512x1024_80k_cityscapes_20200606_112211-e1e1100f.pth):
# download once, then point here.
teacher_ckpt = ('checkpoints/pspnet_r101-d8_512x1024_80k_cityscapes_'
                '20200606_112211-e1e1100f.pth')
teacher_cfg_path = 'mmseg::pspnet/pspnet_r101-d8_4xb2-80k_cityscapes-512x1024.py'  # noqa: E501
student_cfg_path = 'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'  # noqa: E501

model = dict(
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    architecture=dict(cfg_path=student_cfg_path, pretrained=False),
    teacher=dict(cfg_path=teacher_cfg_path, pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='ConfigurableDistiller',
        distill_losses=dict(
            loss_cwd=dict(type='ChannelWiseDivergence', tau=1, loss_weight=3)),
        student_recorders=dict(
            logits=dict(type='ModuleOutputs', source='decode_head.conv_seg')),
        teacher_recorders=dict(
            logits=dict(type='ModuleOutputs', source='decode_head.conv_seg')),
        loss_forward_mappings=dict(
            loss_cwd=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')))))

find_unused_parameters = True

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
