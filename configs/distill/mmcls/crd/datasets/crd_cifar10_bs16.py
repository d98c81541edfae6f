# CIFAR-10 for CRD: mmcls's CIFAR-10 settings (16 images per GPU) with the training
# set wrapped in CRDDataset, which gives every sample neg_num negatives drawn from
# the other classes, and PackCRDClsInputs, which packs them (and the sample's
# dataset index) into the data sample for CRDLoss. Validation needs neither.
_base_ = ['mmcls::_base_/datasets/cifar10_bs16.py']

neg_num = 16384

train_pipeline = [
    dict(type='mmpretrain.RandomCrop', crop_size=32, padding=4),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmrazor.PackCRDClsInputs'),
]

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='mmrazor.CRDDataset',
        dataset=dict(
            type='mmpretrain.CIFAR10',
            data_root='data/cifar10',
            split='train',
            pipeline=train_pipeline),
        neg_num=neg_num,
        percent=1.0,
        sample_mode='exact'))
