# Fashion-MNIST (60k train / 10k test, 28x28 grey, 10 classes), read offline from
# Debian's dataset-fashion-mnist package through mmpretrain's FashionMNIST class.
# The test split doubles as the validation split, as in mmpretrain's MNIST configs.
dataset_type = 'mmrazor.OfflineFashionMNIST'
data_root = 'data/fashion_mnist'

data_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    num_classes=10,
    # per-pixel mean and std of the training images, in 0-255 units
    mean=[72.94],
    std=[90.02],
    to_rgb=False)

train_pipeline = [
    dict(type='mmpretrain.RandomCrop', crop_size=28, padding=2),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs'),
]
test_pipeline = [dict(type='mmpretrain.PackInputs')]

train_dataloader = dict(
    batch_size=128,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        pipeline=test_pipeline))
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
