# FitNets (Romero et al. 2015) + logits KD on Fashion-MNIST: the student's last stage
# (64 x 7 x 7) is mapped by a 1x1 conv onto the teacher's (128 x 7 x 7) and matched by L2.
_base_ = ['../kd/kd_logits_resnet14-w32_resnet14-w16_1xb128_fashion-mnist.py']

model = dict(
    distiller=dict(
        _delete_=True,
        type='ConfigurableDistiller',
        student_recorders=dict(
            bb_s3=dict(type='ModuleOutputs', source='backbone.layer3'),
            fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            bb_s3=dict(type='ModuleOutputs', source='backbone.layer3'),
            fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_s3=dict(type='L2Loss', loss_weight=10),
            loss_kl=dict(type='KLDivergence', tau=4, loss_weight=1)),
        connectors=dict(
            bb_s3_connector=dict(
                type='ConvModuleConnector',
                in_channel=64,
                out_channel=128,
                norm_cfg=dict(type='BN'),
                act_cfg=None)),
        loss_forward_mappings=dict(
            loss_s3=dict(
                s_feature=dict(
                    from_student=True, recorder='bb_s3',
                    connector='bb_s3_connector'),
                t_feature=dict(from_student=False, recorder='bb_s3')),
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc')))))
