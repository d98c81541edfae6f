# Logits KD (Hinton et al. 2015) on Fashion-MNIST: ResNet-14 w32 teacher -> ResNet-14 w16.
# Train the teacher first (10 epochs by default), put its last checkpoint where
# teacher_ckpt points, then distil:
#   python tools/train.py configs/vanilla/fashion_mnist/resnet14-w32_1xb128_fashion-mnist.py \
#       --work-dir work_dirs/fashion_mnist_teacher
#   cp work_dirs/fashion_mnist_teacher/epoch_10.pth work_dirs/fashion_mnist_teacher.pth
#   python tools/train.py configs/distill/fashion_mnist/kd/kd_logits_resnet14-w32_resnet14-w16_1xb128_fashion-mnist.py
# (or keep the teacher where it is: --cfg-options model.teacher_ckpt=PATH)
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
