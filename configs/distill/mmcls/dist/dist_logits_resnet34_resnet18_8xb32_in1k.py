# DIST (Huang et al., NeurIPS 2022), relations between the class probabilities
# (inter-class, per sample) and between the samples (intra-class, per class), on
# ImageNet-1k: ResNet-34 -> ResNet-18.
# MMRazor 1.x's file passed beta/gamma and mapped preds_S/preds_T, names its own
# DISTLoss (inter_loss_weight, intra_loss_weight; logits_S, logits_T) did not take.
_base_ = [
    'mmcls::_base_/datasets/imagenet_bs32.py',
    'mmcls::_base_/schedules/imagenet_bs256.py',
    'mmcls::_base_/default_runtime.py'
]

# Released mmcls weights (https://download.openmmlab.com/mmclassification/v0/resnet/
# resnet34_8xb32_in1k_20210831-f257d4e6.pth): download once, then point here.
teacher_ckpt = 'checkpoints/resnet34_8xb32_in1k_20210831-f257d4e6.pth'

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
        cfg_path='mmcls::resnet/resnet18_8xb32_in1k.py', pretrained=False),
    teacher=dict(
        cfg_path='mmcls::resnet/resnet34_8xb32_in1k.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kl=dict(
                type='DISTLoss',
                inter_loss_weight=1.0,  # the paper's beta
                intra_loss_weight=1.0,  # the paper's gamma
                tau=1,
                loss_weight=2,
            )),
        loss_forward_mappings=dict(
            loss_kl=dict(
                logits_S=dict(from_student=True, recorder='fc'),
                logits_T=dict(from_student=False, recorder='fc')))))

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
