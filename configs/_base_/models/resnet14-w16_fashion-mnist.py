# Student-sized CIFAR-style ResNet for 28x28 grey input: 3x3 stem, no max-pool,
# 3 stages of 2 BasicBlocks (16/32/64 channels) = 14 layers, ~0.17M params.
model = dict(
    type='mmpretrain.ImageClassifier',
    backbone=dict(
        type='mmpretrain.ResNet_CIFAR',
        depth=18,
        num_stages=3,
        in_channels=1,
        stem_channels=16,
        base_channels=16,
        strides=(1, 2, 2),
        dilations=(1, 1, 1),
        out_indices=(2, ),
        style='pytorch'),
    neck=dict(type='mmpretrain.GlobalAveragePooling'),
    head=dict(
        type='mmpretrain.LinearClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0)))
