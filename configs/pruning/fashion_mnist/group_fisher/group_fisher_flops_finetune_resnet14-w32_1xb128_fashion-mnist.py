#############################################################################
"""Fine-tune the Group Fisher pruned Fashion-MNIST teacher, step 2 of 3.

The run writes the unit widths to `<work_dir>/fix_subnet.json` for step 3.
"""
_base_ = './group_fisher_flops_prune_resnet14-w32_1xb128_fashion-mnist.py'
pruned_path = 'work_dirs/group_fisher_flops_prune_resnet14-w32_1xb128_fashion-mnist/flops_0.50.pth'  # noqa
finetune_epochs = 2
##############################################################################

algorithm = _base_.model
algorithm.init_cfg = dict(type='Pretrained', checkpoint=pruned_path)

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='GroupFisherSubModel',
    algorithm=algorithm,
)

# the original learning rate, decayed over the fine-tuning epochs
optim_wrapper = dict(optimizer=dict(lr=_base_._original_lr_))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=finetune_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=finetune_epochs)

# drop the two pruning hooks
custom_hooks = _base_.custom_hooks[:-2]

# a plain static model: MMEngine's default DDP
model_wrapper_cfg = None
