#############################################################################
"""Group Fisher, step 2 of 3: fine-tune the pruned model. Copy this file and fill in:

_base_ (str): Your pruning config (step 1).
pruned_path (str): The checkpoint pruning saved (`flops_<ratio>.pth` in its work dir).

The pruned static model writes its unit widths to `<work_dir>/fix_subnet.json`,
which the deploy config (step 3) reads.
"""
_base_ = ''
pruned_path = ''
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
