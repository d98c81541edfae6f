# Contrastive Representation Distillation (Tian et al., ICLR 2020) on the pooled
# features of CIFAR-10: ResNet-50 -> ResNet-18 (mmcls ResNet_CIFAR).
#
# CRDLoss contrasts each sample with neg_num negatives of other classes, which
# datasets/crd_cifar10_bs16.py draws (CRDDataset) and packs into the data sample
# (PackCRDClsInputs) with the sample's dataset index. Fed a pipeline without them
# (plain PackInputs), CRDLoss draws the negatives uniformly from its memory instead.
_base_ = [
    './datasets/crd_cifar10_bs16.py',
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
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            neck=dict(type='ModuleOutputs', source='neck.gap'),
            # the student is called as model(inputs, data_samples, mode='loss')
            data_samples=dict(type='ModuleInputs', source='')),
        teacher_recorders=dict(
            neck=dict(type='ModuleOutputs', source='neck.gap')),
        distill_losses=dict(
            loss_crd=dict(
                type='CRDLoss',
                loss_weight=0.8,
                temperature=0.07,
                neg_num=16384,  # as the dataset's neg_num
                sample_n=50000,  # the size of CIFAR-10's training set
                dim_out=128,
                momentum=0.5)),
        connectors=dict(
            loss_crd_stu=dict(type='CRDConnector', dim_in=512, dim_out=128),
            loss_crd_tea=dict(type='CRDConnector', dim_in=2048, dim_out=128)),
        loss_forward_mappings=dict(
            loss_crd=dict(
                s_feats=dict(
                    from_student=True,
                    recorder='neck',
                    connector='loss_crd_stu'),
                t_feats=dict(
                    from_student=False,
                    recorder='neck',
                    connector='loss_crd_tea'),
                data_samples=dict(
                    from_student=True, recorder='data_samples', data_idx=1)))))

find_unused_parameters = True

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
