#############################################################################
"""Fine-tune the Group Fisher (flops) pruned MobileNetV2, step 2 of 3.

_base_ (str): The pruning config.
pruned_path (str): The checkpoint pruning saved.
"""

_base_ = './group_fisher_flops_prune_mobilenet-v2_8xb32_in1k.py'
pruned_path = './work_dirs/group_fisher_flops_prune_mobilenet-v2_8xb32_in1k/flops_0.65.pth'  # noqa
##############################################################################
algorithm = _base_.model
algorithm.init_cfg = dict(type='Pretrained', checkpoint=pruned_path)

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='GroupFisherSubModel',
    algorithm=algorithm,
)

# train at the original learning rate again
optim_wrapper = dict(optimizer=dict(lr=_base_._original_lr_))

# drop the two pruning hooks
custom_hooks = _base_.custom_hooks[:-2]

# a plain static model: MMEngine's default DDP
model_wrapper_cfg = None
