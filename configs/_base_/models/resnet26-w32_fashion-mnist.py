# Teacher-sized CIFAR-style ResNet for 28x28 grey input: 3x3 stem, no max-pool,
# 3 stages of 3/4/6 BasicBlocks (32/64/128 channels) = 26 layers, ~1.2M params.
model = dict(
    type='mmpretrain.ImageClassifier',
    backbone=dict(
        type='mmpretrain.ResNet_CIFAR',
        depth=34,
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
