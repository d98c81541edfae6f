# DeiT (Touvron et al., "Training data-efficient image transformers & distillation
# through attention", ICML 2021) on ImageNet-1k: RegNetY-160 teacher -> DeiT-base
# (distilled, with a distillation token) student.
# Everything but the model (ImageNet data at 224, AdamW schedule, EMA hook) comes from
# mmpretrain's DeiT-base recipe, as MMRazor 1.x inherited it.
_base_ = ['mmcls::deit/deit-base_16xb64_in1k.py']

# MMRazor 1.x pointed the teacher at its converted RegNetY-160 weights
# (https://download.openmmlab.com/mmrazor/v1/deit/deit-base/regnety_160-a5fe301d.pth);
# mmrazor never downloads at run time: download the file once, then point here.
teacher_ckpt = 'checkpoints/regnety_160-a5fe301d.pth'

model = dict(
    _scope_='mmrazor',
    _delete_=True,
    type='SingleTeacherDistill',
    # mmpretrain's DeiT preprocessing, with the student's Mixup/CutMix batch augments
    # (the teacher sees the same mixed images).
    data_preprocessor=dict(
        type='mmcls.ClsDataPreprocessor',
        num_classes=1000,
        # RGB format normalization parameters
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        # convert image from BGR to RGB
        to_rgb=True,
        batch_augments=dict(augments=[
            dict(type='Mixup', alpha=0.8),
            dict(type='CutMix', alpha=1.0)
        ])),
    # DistilledVisionTransformer (arch 'deit-base', 224 input, patch 16) + DeiTClsHead,
    # whose ``head.layers.head_dist`` classifies the distillation token. Note that
    # mmpretrain's DeiTClsHead scores (head + head_dist) / 2 against the labels (MMRazor
    # 1.x shipped its own DeiTClsHead that used only the class-token head there).
    architecture=dict(
        cfg_path='mmcls::deit/deit-base-distilled_16xb64_in1k.py', pretrained=False),
    teacher=dict(
        _scope_='mmcls',
        type='ImageClassifier',
        # timm's RegNetY-160 (pip install timm); the weights come from teacher_ckpt
        backbone=dict(
            type='TIMMBackbone', model_name='regnety_160', pretrained=False),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=1000,
            in_channels=3024,
            loss=dict(
                type='LabelSmoothLoss',
                label_smooth_val=0.1,
                mode='original',
                loss_weight=0.5),
            topk=(1, 5))),
    teacher_ckpt=teacher_ckpt,
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.layers.head_dist')),
        teacher_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        # DeiT's distillation loss is a cross entropy of the distillation-token logits
        # with the teacher's predictions, weighted 0.5 (the label loss has the other
        # 0.5). MMRazor 1.x used its CrossEntropyLoss here on the raw teacher logits
        # (loss_weight=0.5); as far as we know it took their argmax, i.e. DeiT's hard
        # distillation. mmrazor's CrossEntropyLoss expects teacher probabilities, so the
        # softmax connector turns the teacher's logits into them: this is the soft
        # (tau=1) variant of the same loss, not the hard-label one.
        connectors=dict(
            teacher_softmax=dict(
                type='TorchFunctionalConnector',
                function_name='softmax',
                func_args=dict(dim=1))),
        distill_losses=dict(
            loss_distill=dict(type='CrossEntropyLoss', loss_weight=0.5)),
        loss_forward_mappings=dict(
            loss_distill=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(
                    from_student=False, recorder='fc',
                    connector='teacher_softmax')))))

find_unused_parameters = True

val_cfg = dict(_delete_=True, type='mmrazor.SingleTeacherDistillValLoop')
