#############################################################################
"""Fine-tune the Group Fisher (act) pruned ResNet-50, step 2 of 3.

_base_ (str): The pruning config.
pruned_path (str): The checkpoint pruning saved.
finetune_lr (float): The fine-tuning learning rate (usually the original one).
"""

_base_ = './group_fisher_act_prune_resnet50_8xb32_in1k.py'
pruned_path = './work_dirs/group_fisher_act_prune_resnet50_8xb32_in1k/flops_0.50.pth'  # noqa
finetune_lr = 0.1
##############################################################################
algorithm = _base_.model
algorithm.init_cfg = dict(type='Pretrained', checkpoint=pruned_path)

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='GroupFisherSubModel',
    algorithm=algorithm,
)

optim_wrapper = dict(optimizer=dict(lr=finetune_lr))

# drop the two pruning hooks
custom_hooks = _base_.custom_hooks[:-2]

# a plain static model: MMEngine's default DDP
model_wrapper_cfg = None
