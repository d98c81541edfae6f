# Logits KD (Hinton et al. 2015) on Fashion-MNIST: ResNet-14 w32 teacher -> ResNet-14 w16.
# Train the teacher first (tools/distill_fashion_mnist.sh does every step):
#   python tools/train.py configs/vanilla/fashion_mnist/resnet14-w32_1xb128_fashion-mnist.py
_base_ = [
    '../../../_base_/datasets/fashion_mnist.py',
    '../../../_base_/schedules/fashion_mnist_bs128.py',
    '../../../_base_/default_runtime.py',
]
teacher_ckpt = 'work_dirs/fashion_mnist_teacher.pth'

model = dict(
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    data_preprocessor={{_base_.data_preprocessor}},
    architecture=dict(cfg_path='mmrazor::_base_/models/resnet14-w16_fashion-mnist.py'),
    teacher=dict(cfg_path='mmrazor::_base_/models/resnet14-w32_fashion-mnist.py'),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(loss_kl=dict(type='KLDivergence', tau=4, loss_weight=1)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc')))))

find_unused_parameters = False
val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
