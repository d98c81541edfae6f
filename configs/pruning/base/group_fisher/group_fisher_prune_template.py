#############################################################################
"""Group Fisher, step 1 of 3: prune. Copy this file and fill in:

_base_ (str): The config that trains the model to prune.
pretrained_path (str): The trained model's checkpoint.
interval (int): Training iterations between two pruned channels; leave enough
    iterations to reach the target (ResourceInfoHook stops training there).
normalization_type (str): How a channel's Fisher importance is weighed against
    what removing it saves: 'flops' or 'act' (activation memory).
lr_ratio (float): The base config's learning rate is scaled by it while pruning;
    lower it if the loss turns NaN.
target_flop_ratio (float): The FLOPs to reach, as a share of the original; the
    checkpoint `flops_{target_flop_ratio:.2f}.pth` is saved when they are reached.
input_shape (tuple): The input FLOPs are measured on.
"""
_base_ = ''
pretrained_path = ''

interval = 10
normalization_type = 'act'
lr_ratio = 0.1

target_flop_ratio = 0.5
input_shape = (1, 3, 224, 224)
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
        parse_cfg=dict(type='ChannelAnalyzer', tracer_type='FxTracer'),
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
