# BigNAS step 3: evaluate (or fine-tune) a searched subnet, here AttentiveNAS-A0,
# with the weights it inherits from the trained supernet.
_base_ = 'attentive_mobilenet_supernet_32xb64_in1k.py'

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='sub_model',
    cfg=_base_.supernet,
    # NOTE: replace the yaml with the subnet searched by yourself
    fix_subnet='{{fileDirname}}/ATTENTIVE_SUBNET_A0.yaml',
    # the supernet checkpoint: its weights are loaded, then sliced to the subnet
    init_weight_from_supernet=True,
    init_cfg=dict(
        type='Pretrained',
        checkpoint=  # noqa: E251
        'https://download.openmmlab.com/mmrazor/v1/bignas/attentive_mobilenet_supernet_32xb64_in1k_flops-2G_acc-81.72_20221229_200440-954772a3.pth',  # noqa: E501
        prefix='architecture.'))

model_wrapper_cfg = None
find_unused_parameters = True

test_cfg = dict(evaluate_fixed_subnet=True)

default_hooks = dict(checkpoint=None)
