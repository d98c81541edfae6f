#############################################################################
"""Deploy the Group Fisher pruned Fashion-MNIST teacher, step 3 of 3: the plain
architecture, the widths the fine-tune run wrote, and its weights as a state dict.

    python tools/test.py THIS_CONFIG \
        work_dirs/group_fisher_flops_finetune_resnet14-w32_1xb128_fashion-mnist/epoch_2.pth
"""
_base_ = '../../../vanilla/fashion_mnist/resnet14-w32_1xb128_fashion-mnist.py'
fix_subnet = 'work_dirs/group_fisher_flops_finetune_resnet14-w32_1xb128_fashion-mnist/fix_subnet.json'  # noqa
divisor = 1
##############################################################################

architecture = _base_.model

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='GroupFisherDeploySubModel',
    architecture=architecture,
    fix_subnet=fix_subnet,
    divisor=divisor,
    parse_cfg=dict(
        _scope_='mmrazor',
        type='ChannelAnalyzer',
        demo_input=(1, 1, 28, 28),
        tracer_type='FxTracer'),
)
