# SPOS step 3 on Fashion-MNIST: retrain the searched subnet (best_fix_subnet.yaml of
# the search) as a fixed network, starting from the supernet's weights on that path.
_base_ = ['./spos_shufflenet-tiny_supernet_1xb128_fashion-mnist.py']

_base_.model = dict(
    _scope_='mmrazor',
    type='sub_model',
    cfg=_base_.supernet,
    # NOTE: replace with the best_fix_subnet.yaml of your own search
    fix_subnet='{{fileDirname}}/SPOS_TINY_SUBNET.yaml',
    # the subnet_<time>.pth the search wrote (None: train from scratch)
    init_cfg=None)

train_dataloader = dict(dataset=dict(indices=None))
model_wrapper_cfg = None
find_unused_parameters = False
