# Activation Boundaries (Heo et al., AAAI 2019), stage 2 of 2: logits KD from the
# student initialized by stage 1 (abloss_pretrain_backbone_resnet50_resnet18_8xb32_in1k.py).
# ImageNet-1k, ResNet-50 -> ResNet-18.
_base_ = [
    'mmcls::_base_/datasets/imagenet_bs32.py',
    'mmcls::_base_/schedules/imagenet_bs256.py',
    'mmcls::_base_/default_runtime.py'
]

# Released mmcls weights (https://download.openmmlab.com/mmclassification/v0/resnet/
# resnet50_8xb32_in1k_20210831-ea4938fc.pth): download once, then point here.
teacher_ckpt = 'checkpoints/resnet50_8xb32_in1k_20210831-ea4938fc.pth'
# The last checkpoint of stage 1; its student weights are under "architecture.".
pretrain_backbone_ckpt = (
    'work_dirs/abloss_pretrain_backbone_resnet50_resnet18_8xb32_in1k/epoch_1.pth')

model = dict(
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        # RGB format normalization parameters
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        # convert image from BGR to RGB
        bgr_to_rgb=True),
    architecture=dict(
        cfg_path='mmcls::resnet/resnet18_8xb32_in1k.py',
        pretrained=False,
        # loaded by the Runner's init_weights()
        init_cfg=dict(
            type='Pretrained',
            checkpoint=pretrain_backbone_ckpt,
            prefix='architecture.')),
    teacher=dict(
        cfg_path='mmcls::resnet/resnet50_8xb32_in1k.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kl=dict(type='KLDivergence', tau=1, loss_weight=200)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc')))))

find_unused_parameters = True

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
