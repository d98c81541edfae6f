# Retrain the 220M FLOPs AutoSlim subnet alone: subnet 0 of the slimmable network,
# fixed and made a static model.
_base_ = 'autoslim_mbv2_1.5x_slimmable_subnet_8xb256_in1k.py'

model = dict(deploy_index=0)
