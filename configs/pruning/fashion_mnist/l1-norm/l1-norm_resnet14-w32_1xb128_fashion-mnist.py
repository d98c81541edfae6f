# L1-norm pruning of the Fashion-MNIST teacher (ResNet-14 w32, 81 MFLOPs) to about
# half its FLOPs, then fine-tuning: the first conv of every residual block keeps the
# 50% of its filters with the largest L1 norm (FLOPs x0.51, params x0.51); the units
# carrying the residual sums keep all their channels.
# Needs the trained teacher: `python tools/demo_compression.py` writes it to
# work_dirs/demo_compression/teacher/epoch_2.pth (or train
# configs/vanilla/fashion_mnist/resnet14-w32_1xb128_fashion-mnist.py and set
# `pretrained` below). Then:
#   python tools/train.py configs/pruning/fashion_mnist/l1-norm/l1-norm_resnet14-w32_1xb128_fashion-mnist.py
# prunes at the first iteration, fine-tunes for one epoch, logs the structure and the
# FLOPs, saves flops_0.55.pth when FLOPs fall below 55% and, after validation, the
# pruned subnet (fix_subnet.json, fix_subnet_weight.pth) in the work dir.
_base_ = ['../../../vanilla/fashion_mnist/resnet14-w32_1xb128_fashion-mnist.py']

pretrained = 'work_dirs/demo_compression/teacher/epoch_2.pth'
input_shape = (1, 1, 28, 28)
keep = 0.5

target_pruning_ratio = {
    'backbone.conv1_(0, 32)_32': 1.0,  # shortcut
    'backbone.layer1.0.conv1_(0, 32)_32': keep,
    'backbone.layer1.1.conv1_(0, 32)_32': keep,
    'backbone.layer2.0.conv1_(0, 64)_64': keep,
    'backbone.layer2.0.conv2_(0, 64)_64': 1.0,  # shortcut
    'backbone.layer2.1.conv1_(0, 64)_64': keep,
    'backbone.layer3.0.conv1_(0, 128)_128': keep,
    'backbone.layer3.0.conv2_(0, 128)_128': 1.0,  # shortcut
    'backbone.layer3.1.conv1_(0, 128)_128': keep,
}

architecture = _base_.model
architecture.update(init_cfg=dict(type='Pretrained', checkpoint=pretrained))

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='ItePruneAlgorithm',
    architecture=architecture,
    mutator_cfg=dict(
        type='ChannelMutator',
        channel_unit_cfg=dict(
            type='L1MutableChannelUnit', default_args=dict(choice_mode='ratio')),
        parse_cfg=dict(
            type='ChannelAnalyzer', demo_input=input_shape, tracer_type='FxTracer')),
    target_pruning_ratio=target_pruning_ratio,
    step_freq=1,
    prune_times=1,
)

# fine-tune: one epoch on the first 30k training images, from a 10x smaller rate
train_dataloader = dict(dataset=dict(indices=30000))
optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=1,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
val_cfg = dict(_delete_=True, type='mmrazor.ItePruneValLoop')

custom_hooks = [
    dict(type='mmrazor.PruningStructureHook', by_epoch=True, interval=1),
    dict(type='mmrazor.ResourceInfoHook', demo_input=input_shape, interval=100,
         save_ckpt_thr=[0.55], early_stop=False),
]

# ItePruneAlgorithm prunes in its own train_step: the generic wrapper runs it on every rank
model_wrapper_cfg = dict(type='mmrazor.AlgorithmDDP', broadcast_buffers=False)
