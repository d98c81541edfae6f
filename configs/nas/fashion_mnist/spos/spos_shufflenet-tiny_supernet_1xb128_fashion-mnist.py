# SPOS step 1 on Fashion-MNIST (CPU-sized): train a small ShuffleNetV2 supernet, one
# random path per step. 6 searchable blocks x 4 candidate ops = 4096 subnets.
# The last 5000 training images are held out: the search scores subnets on them.
_base_ = [
    '../../../_base_/nas_backbones/spos_shufflenet_supernet.py',
    '../../../_base_/datasets/fashion_mnist.py',
    '../../../_base_/schedules/fashion_mnist_bs128.py',
    '../../../_base_/default_runtime.py',
]

# [channels, num_blocks, mutable_cfg] per stage, each block one of the SPOS space's
# four candidate ops; 28x28 input -> 14, 7, 4, 2
arch_setting = [
    [32, 2, _base_._STAGE_MUTABLE],
    [64, 2, _base_._STAGE_MUTABLE],
    [128, 2, _base_._STAGE_MUTABLE],
]

# the grey channel broadcasts to the three input channels of the stem (tools/train.py
# gives the model this top-level data_preprocessor)
data_preprocessor = dict(mean=[72.94] * 3, std=[90.02] * 3)

supernet = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        _scope_='mmrazor',
        type='SearchableShuffleNetV2',
        arch_setting=arch_setting,
        widen_factor=1.0,
        with_last_layer=False,
        out_indices=(2, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))

model = dict(
    type='mmrazor.SPOS',
    architecture=supernet,
    mutator=dict(type='mmrazor.NasMutator'))

# the first 55000 training images; the rest score subnets in the search
train_dataloader = dict(dataset=dict(indices=55000))

# the candidates off the sampled path get no gradient
find_unused_parameters = True
