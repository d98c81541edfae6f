# Attention Transfer (Zagoruyko & Komodakis, ICLR 2017) on the outputs of the four
# stages, on ImageNet-1k: ResNet-50 -> ResNet-18. MMRazor 1.x shipped ATLoss
# without a KD-with-data classification config; this one uses the attention weight of
# MMRazor's ZSKT config (250 per stage; the stages' spatial sizes match between the
# two ResNets, the channel counts need not).
_base_ = [
    'mmcls::_base_/datasets/imagenet_bs32.py',
    'mmcls::_base_/schedules/imagenet_bs256.py',
    'mmcls::_base_/default_runtime.py'
]

# Released mmcls weights (https://download.openmmlab.com/mmclassification/v0/resnet/
# resnet50_8xb32_in1k_20210831-ea4938fc.pth): download once, then point here.
teacher_ckpt = 'checkpoints/resnet50_8xb32_in1k_20210831-ea4938fc.pth'

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
        cfg_path='mmcls::resnet/resnet50_8xb32_in1k.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            bb_s1=dict(type='ModuleOutputs', source='backbone.layer1'),
            bb_s2=dict(type='ModuleOutputs', source='backbone.layer2'),
            bb_s3=dict(type='ModuleOutputs', source='backbone.layer3'),
            bb_s4=dict(type='ModuleOutputs', source='backbone.layer4')),
        teacher_recorders=dict(
            bb_s1=dict(type='ModuleOutputs', source='backbone.layer1'),
            bb_s2=dict(type='ModuleOutputs', source='backbone.layer2'),
            bb_s3=dict(type='ModuleOutputs', source='backbone.layer3'),
            bb_s4=dict(type='ModuleOutputs', source='backbone.layer4')),
        distill_losses=dict(
            loss_s1=dict(type='ATLoss', loss_weight=250.0),
            loss_s2=dict(type='ATLoss', loss_weight=250.0),
            loss_s3=dict(type='ATLoss', loss_weight=250.0),
            loss_s4=dict(type='ATLoss', loss_weight=250.0)),
        loss_forward_mappings=dict(
            loss_s1=dict(
                s_feature=dict(from_student=True, recorder='bb_s1'),
                t_feature=dict(from_student=False, recorder='bb_s1')),
            loss_s2=dict(
                s_feature=dict(from_student=True, recorder='bb_s2'),
                t_feature=dict(from_student=False, recorder='bb_s2')),
            loss_s3=dict(
                s_feature=dict(from_student=True, recorder='bb_s3'),
                t_feature=dict(from_student=False, recorder='bb_s3')),
            loss_s4=dict(
                s_feature=dict(from_student=True, recorder='bb_s4'),
                t_feature=dict(from_student=False, recorder='bb_s4')))))

find_unused_parameters = True

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
