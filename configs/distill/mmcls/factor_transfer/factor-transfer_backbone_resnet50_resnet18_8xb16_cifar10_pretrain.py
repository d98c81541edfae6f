# Factor Transfer (Kim et al., NeurIPS 2018), stage 1 of 2: train the paraphraser
# to reconstruct the teacher's last feature map; the student is not trained.
# Stage 2 is factor-transfer_backbone_resnet50_resnet18_8xb16_cifar10_train.py.
# CIFAR-10, ResNet-50 -> ResNet-18 (mmcls ResNet_CIFAR).
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
    type='SingleTeacherDistill',
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
    calculate_student_loss=False,
    student_trainable=False,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            bb_s4=dict(type='ModuleOutputs', source='backbone.layer4.1.conv2')),
        teacher_recorders=dict(
            bb_s4=dict(type='ModuleOutputs', source='backbone.layer4.2.conv3')),
        distill_losses=dict(
            loss_s4_pretrain=dict(type='L2Loss', loss_weight=1.0)),
        connectors=dict(
            loss_s4_sfeat=dict(
                type='Translator', in_channel=512, out_channel=512),
            loss_s4_tfeat=dict(
                type='Paraphraser',
                phase='pretrain',
                in_channel=2048,
                out_channel=512)),
        loss_forward_mappings=dict(
            # the paraphraser's reconstruction of the teacher feature vs. the feature
            loss_s4_pretrain=dict(
                s_feature=dict(
                    from_student=False,
                    recorder='bb_s4',
                    connector='loss_s4_tfeat'),
                t_feature=dict(from_student=False, recorder='bb_s4')))))

find_unused_parameters = True

train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=1)
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
