# Factor Transfer (Kim et al., NeurIPS 2018), stage 2 of 2: the student's translator
# imitates the factor that the paraphraser trained in stage 1
# (factor-transfer_backbone_resnet50_resnet18_8xb16_cifar10_pretrain.py) extracts
# from the teacher. CIFAR-10, ResNet-50 -> ResNet-18 (mmcls ResNet_CIFAR).
_base_ = [
    './factor-transfer_backbone_resnet50_resnet18_8xb16_cifar10_pretrain.py'
]

# The last checkpoint of stage 1 (the whole algorithm: its paraphraser is loaded).
pretrain_ckpt = ('work_dirs/factor-transfer_backbone_resnet50_resnet18_8xb16_'
                 'cifar10_pretrain/epoch_20.pth')

model = dict(
    calculate_student_loss=True,
    student_trainable=True,
    distiller=dict(
        distill_losses=dict(
            _delete_=True, loss_s4=dict(type='FTLoss', loss_weight=1.0)),
        connectors=dict(loss_s4_tfeat=dict(phase='train')),
        loss_forward_mappings=dict(
            _delete_=True,
            loss_s4=dict(
                s_feature=dict(
                    from_student=True,
                    recorder='bb_s4',
                    connector='loss_s4_sfeat'),
                t_feature=dict(
                    from_student=False,
                    recorder='bb_s4',
                    connector='loss_s4_tfeat')))),
    # loaded by the Runner's init_weights()
    init_cfg=dict(type='Pretrained', checkpoint=pretrain_ckpt))

train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=1)
