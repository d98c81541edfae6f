# Decoupled KD (Zhao et al. 2022) on Fashion-MNIST: ResNet-14 w32 -> ResNet-14 w16.
_base_ = ['../kd/kd_logits_resnet14-w32_resnet14-w16_1xb128_fashion-mnist.py']

model = dict(
    distiller=dict(
        _delete_=True,
        type='ConfigurableDistiller',
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc'),
            # the head's loss module is called as loss_module(cls_score, target)
            gt_labels=dict(type='ModuleInputs', source='head.loss_module')),
        teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_dkd=dict(type='DKDLoss', tau=1, beta=0.5, loss_weight=1,
                          reduction='mean')),
        loss_forward_mappings=dict(
            loss_dkd=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc'),
                gt_labels=dict(recorder='gt_labels', from_student=True,
                               data_idx=1)))))
