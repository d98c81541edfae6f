# AutoSlim step 2: greedy slimming of the trained supernet; writes one
# FLOPS_<flops>M.yaml per target (a channel-mutator subnet) and latest.pkl (to
# resume) in the work dir. Run with tools/test.py CONFIG SUPERNET_CKPT.
_base_ = ['./autoslim_mbv2_1.5x_supernet_8xb256_in1k.py']

# MMRazor's config says bn_training_mode=True, which the algorithm (argument
# norm_training) silently ignored: score the subnets on batch statistics
model = dict(norm_training=True)

train_cfg = None
optim_wrapper = None
param_scheduler = None
train_dataloader = None

val_cfg = None
val_dataloader = None
val_evaluator = None

test_cfg = dict(
    _delete_=True,
    type='mmrazor.AutoSlimGreedySearchLoop',
    dataloader=_base_.test_dataloader,
    evaluator=_base_.test_evaluator,
    target_flops=(500., 300., 200.))
