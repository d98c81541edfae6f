#############################################################################
"""Fine-tune the Group Fisher (act) pruned RetinaNet-R50-FPN, step 2 of 3.

_base_ (str): The pruning config.
pruned_path (str): The checkpoint pruning saved.
finetune_lr (float): The fine-tuning learning rate (usually the original one).
"""

_base_ = './group_fisher_act_prune_retinanet_r50_fpn_1x_coco.py'
pruned_path = 'https://download.openmmlab.com/mmrazor/v1/pruning/group_fisher/retinanet/act/group_fisher_act_prune_retinanet_r50_fpn_1x_coco.pth'  # noqa
finetune_lr = 0.005
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
