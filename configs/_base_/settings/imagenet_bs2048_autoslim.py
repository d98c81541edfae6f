# AutoSlim on ImageNet: the SPOS settings at 256 images per GPU.
_base_ = ['./imagenet_bs1024_spos.py']

train_dataloader = dict(batch_size=256)

val_dataloader = dict(batch_size=256)

test_dataloader = dict(batch_size=256)
