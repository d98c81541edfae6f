# Teacher-sized CIFAR-style ResNet for 28x28 grey input: 3x3 stem, no max-pool,
# 3 stages of 2 BasicBlocks (32/64/128 channels) = 14 layers, ~0.7M params: twice the
# student's width, four times its compute (sized so that CPU training stays practical).
model = dict(
    type='mmpretrain.ImageClassifier',
    backbone=dict(
        type='mmpretrain.ResNet_CIFAR',
        depth=18,
        num_stages=3,
        in_channels=1,
        stem_channels=32,
        base_channels=32,
        strides=(1, 2, 2),
        dilations=(1, 1, 1),
        out_indices=(2, ),
        style='pytorch'),
    neck=dict(type='mmpretrain.GlobalAveragePooling'),
    head=dict(
        type='mmpretrain.LinearClsHead',
        num_classes=10,
        in_channels=128,
        loss=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0)))
