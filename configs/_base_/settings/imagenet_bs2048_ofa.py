# Once-for-All on ImageNet: the BigNAS schedule, lighter augmentation (colour
# jitter instead of AutoAugment) and 2000 samples for BN recalibration.
_base_ = ['./imagenet_bs2048_bignas.py']

train_pipeline = [
    dict(type='mmcls.LoadImageFromFile'),
    dict(type='mmcls.RandomResizedCrop', scale=224),
    dict(type='mmcls.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmcls.ColorJitter', brightness=0.1254, saturation=0.5),
    dict(type='mmcls.PackClsInputs'),
]

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

val_cfg = dict(type='mmrazor.SubnetValLoop', calibrate_sample_num=2000)
test_cfg = dict(type='mmrazor.SubnetValLoop', calibrate_sample_num=2000)
