#############################################################################
"""Group Fisher pruning of the Fashion-MNIST teacher (ResNet-14 w32) to half its
FLOPs, step 1 of 3 (see README.md).

pretrained_path: the teacher that `tools/demo_compression.py` trains (or any
`configs/vanilla/fashion_mnist/resnet14-w32_1xb128_fashion-mnist.py` checkpoint).
"""
_base_ = '../../../vanilla/fashion_mnist/resnet14-w32_1xb128_fashion-mnist.py'
pretrained_path = 'work_dirs/demo_compression/teacher/epoch_2.pth'

interval = 2
normalization_type = 'flops'
lr_ratio = 0.1

target_flop_ratio = 0.5
input_shape = (1, 1, 28, 28)
##############################################################################

architecture = _base_.model

if hasattr(_base_, 'data_preprocessor'):
    architecture.update({'data_preprocessor': _base_.data_preprocessor})
    data_preprocessor = None

architecture.init_cfg = dict(type='Pretrained', checkpoint=pretrained_path)
architecture['_scope_'] = _base_.default_scope

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='GroupFisherAlgorithm',
    architecture=architecture,
    interval=interval,
    mutator=dict(
        type='GroupFisherChannelMutator',
        parse_cfg=dict(
            type='ChannelAnalyzer', demo_input=input_shape, tracer_type='FxTracer'),
        channel_unit_cfg=dict(
            type='GroupFisherChannelUnit',
            default_args=dict(normalization_type=normalization_type, ),
        ),
    ),
)

model_wrapper_cfg = dict(
    type='mmrazor.GroupFisherDDP',
    broadcast_buffers=False,
)

_original_lr_ = _base_.optim_wrapper.optimizer.lr
optim_wrapper = dict(optimizer=dict(lr=_original_lr_ * lr_ratio))
# a constant learning rate while pruning; ResourceInfoHook stops at the target
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0)]
train_cfg = dict(max_epochs=5)

custom_hooks = getattr(_base_, 'custom_hooks', []) + [
    dict(type='mmrazor.PruningStructureHook'),
    dict(
        type='mmrazor.ResourceInfoHook',
        interval=interval,
        demo_input=dict(
            type='mmrazor.DefaultDemoInput',
            input_shape=input_shape,
        ),
        save_ckpt_thr=[target_flop_ratio],
    ),
]
