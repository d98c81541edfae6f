# Overhaul of Feature Distillation (Heo et al., ICCV 2019) on CIFAR-10:
# ResNet-50 -> ResNet-18 (mmcls ResNet_CIFAR).
#
# OFD distills pre-ReLU features: the teacher's through a margin ReLU whose
# per-channel margin is the expected negative response of the BN that outputs
# the feature (OFDDistiller computes it from that BN, so each teacher recorder's
# source must be a BN). In these post-activation ResNets the pre-ReLU features
# that BNs output are those of the residual branch of each stage's last block
# (bn2 of a BasicBlock, bn3 of a Bottleneck), before the identity is added.
# MMRazor 1.x distilled WRN-28-4 -> WRN-16-2 under this file name, from configs
# (configs/vanilla/mmcls/wide-resnet) and a WideResNet backbone this toolkit does
# not have yet.
_base_ = [
    'mmcls::_base_/datasets/cifar10_bs16.py',
    'mmcls::_base_/schedules/cifar10_bs128.py',
    'mmcls::_base_/default_runtime.py'
]

# Released mmcls weights (https://download.openmmlab.com/mmclassification/v0/resnet/
# resnet50_b16x8_cifar10_20210528-f54bfad9.pth): download once, then point here.
teacher_ckpt = 'checkpoints/resnet50_b16x8_cifar10_20210528-f54bfad9.pth'

model = dict(
    _scope_='mmrazor',
    type='OverhaulFeatureDistillation',
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        # RGB format normalization parameters
        mean=[125.307, 122.961, 113.8575],
        std=[51.5865, 50.847, 51.255],
        # loaded images are already RGB format
        bgr_to_rgb=False),
    architecture=dict(
        cfg_path='mmcls::resnet/resnet18_8xb16_cifar10.py', pretrained=False),
    teacher=dict(
        cfg_path='mmcls::resnet/resnet50_8xb16_cifar10.py', pretrained=False),
    teacher_ckpt=teacher_ckpt,
    calculate_student_loss=True,
    distiller=dict(
        type='OFDDistiller',
        student_recorders=dict(
            bb_1=dict(type='ModuleOutputs', source='backbone.layer1.1.bn2'),
            bb_2=dict(type='ModuleOutputs', source='backbone.layer2.1.bn2'),
            bb_3=dict(type='ModuleOutputs', source='backbone.layer3.1.bn2'),
            bb_4=dict(type='ModuleOutputs', source='backbone.layer4.1.bn2')),
        teacher_recorders=dict(
            bb_1=dict(type='ModuleOutputs', source='backbone.layer1.2.bn3'),
            bb_2=dict(type='ModuleOutputs', source='backbone.layer2.3.bn3'),
            bb_3=dict(type='ModuleOutputs', source='backbone.layer3.5.bn3'),
            bb_4=dict(type='ModuleOutputs', source='backbone.layer4.2.bn3')),
        # the paper's weights 2^(i - n) for stage i of n
        distill_losses=dict(
            loss_1=dict(type='OFDLoss', loss_weight=0.125),
            loss_2=dict(type='OFDLoss', loss_weight=0.25),
            loss_3=dict(type='OFDLoss', loss_weight=0.5),
            loss_4=dict(type='OFDLoss', loss_weight=1.0)),
        connectors=dict(
            loss_1_sfeat=dict(
                type='ConvModuleConnector',
                in_channel=64,
                out_channel=256,
                norm_cfg=dict(type='BN'),
                act_cfg=None),
            loss_1_tfeat=dict(type='OFDTeacherConnector'),
            loss_2_sfeat=dict(
                type='ConvModuleConnector',
                in_channel=128,
                out_channel=512,
                norm_cfg=dict(type='BN'),
                act_cfg=None),
            loss_2_tfeat=dict(type='OFDTeacherConnector'),
            loss_3_sfeat=dict(
                type='ConvModuleConnector',
                in_channel=256,
                out_channel=1024,
                norm_cfg=dict(type='BN'),
                act_cfg=None),
            loss_3_tfeat=dict(type='OFDTeacherConnector'),
            loss_4_sfeat=dict(
                type='ConvModuleConnector',
                in_channel=512,
                out_channel=2048,
                norm_cfg=dict(type='BN'),
                act_cfg=None),
            loss_4_tfeat=dict(type='OFDTeacherConnector')),
        loss_forward_mappings=dict(
            loss_1=dict(
                s_feature=dict(
                    from_student=True,
                    recorder='bb_1',
                    connector='loss_1_sfeat'),
                t_feature=dict(
                    from_student=False,
                    recorder='bb_1',
                    connector='loss_1_tfeat')),
            loss_2=dict(
                s_feature=dict(
                    from_student=True,
                    recorder='bb_2',
                    connector='loss_2_sfeat'),
                t_feature=dict(
                    from_student=False,
                    recorder='bb_2',
                    connector='loss_2_tfeat')),
            loss_3=dict(
                s_feature=dict(
                    from_student=True,
                    recorder='bb_3',
                    connector='loss_3_sfeat'),
                t_feature=dict(
                    from_student=False,
                    recorder='bb_3',
                    connector='loss_3_tfeat')),
            loss_4=dict(
                s_feature=dict(
                    from_student=True,
                    recorder='bb_4',
                    connector='loss_4_sfeat'),
                t_feature=dict(
                    from_student=False,
                    recorder='bb_4',
                    connector='loss_4_tfeat')))))

find_unused_parameters = True

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
