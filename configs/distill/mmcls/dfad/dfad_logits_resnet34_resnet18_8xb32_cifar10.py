# DFAD (Fang et al., 2019), data-free adversarial KD on CIFAR-10: the generator
# seeks images on which the ResNet-18 student and the ResNet-34 teacher disagree
# (negative L1 of their logits), the student then matches the teacher on them.
_base_ = [
    'mmcls::_base_/datasets/cifar10_bs16.py',
    'mmcls::_base_/schedules/cifar10_bs128.py',
    'mmcls::_base_/default_runtime.py'
]

# Released mmcls weights (https://download.openmmlab.com/mmclassification/v0/resnet/
# resnet34_b16x8_cifar10_20210528-a8aa36a6.pth): download once, then point here.
res34_ckpt_path = 'checkpoints/resnet34_b16x8_cifar10_20210528-a8aa36a6.pth'

model = dict(
    _scope_='mmrazor',
    type='DataFreeDistillation',
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        # RGB format normalization parameters
        mean=[125.307, 122.961, 113.8575],
        std=[51.5865, 50.847, 51.255],
        # loaded images are already RGB format
        bgr_to_rgb=False),
    architecture=dict(
        cfg_path='mmcls::resnet/resnet18_8xb16_cifar10.py', pretrained=False),
    teachers=dict(
        res34=dict(
            build_cfg=dict(
                cfg_path='mmcls::resnet/resnet34_8xb16_cifar10.py',
                pretrained=False),
            ckpt_path=res34_ckpt_path)),
    generator=dict(
        type='DAFLGenerator',
        img_size=32,
        latent_dim=256,
        hidden_channels=128),
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            res34_fc=dict(type='ModuleOutputs', source='res34.head.fc')),
        distill_losses=dict(loss_kl=dict(type='L1Loss', loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                s_feature=dict(from_student=True, recorder='fc'),
                t_feature=dict(from_student=False, recorder='res34_fc')))),
    generator_distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            res34_fc=dict(type='ModuleOutputs', source='res34.head.fc')),
        distill_losses=dict(loss_l1=dict(type='L1Loss', loss_weight=-1.0)),
        loss_forward_mappings=dict(
            loss_l1=dict(
                s_feature=dict(from_student=True, recorder='fc'),
                t_feature=dict(from_student=False, recorder='res34_fc')))),
    student_iter=5)

# model wrapper: one generic wrapper serves every multi-phase algorithm (it averages
# each optimizer's gradients across ranks right before that optimizer steps)
model_wrapper_cfg = dict(
    type='mmrazor.AlgorithmDDP',
    broadcast_buffers=False,
    find_unused_parameters=False)

find_unused_parameters = True

# optimizer wrapper: one optimizer for the student, one for the generator
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.SeparateOptimWrapperConstructor',
    architecture=dict(
        optimizer=dict(type='SGD', lr=0.1, weight_decay=5e-4, momentum=0.9)),
    generator=dict(optimizer=dict(type='AdamW', lr=1e-3)))

auto_scale_lr = dict(base_batch_size=32)

iter_size = 50
param_scheduler = dict(
    _delete_=True,
    architecture=dict(
        type='MultiStepLR',
        milestones=[100 * iter_size, 200 * iter_size],
        by_epoch=False),
    generator=dict(
        type='MultiStepLR',
        milestones=[100 * iter_size, 200 * iter_size],
        by_epoch=False))

train_cfg = dict(
    _delete_=True,
    by_epoch=False,
    max_iters=500 * iter_size,
    val_interval=iter_size)

train_dataloader = dict(
    batch_size=32, sampler=dict(type='InfiniteSampler', shuffle=True))
val_dataloader = dict(batch_size=32)
val_evaluator = dict(type='Accuracy', topk=(1, 5))

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, by_epoch=False),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=iter_size,
        max_keep_ckpts=2))

log_processor = dict(by_epoch=False)
# Must set diff_rank_seed to True!
randomness = dict(seed=None, diff_rank_seed=True)
