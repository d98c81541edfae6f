# Once-for-All: the subnet for a Note8 latency of 22 ms, sliced from the supernet.
_base_ = 'ofa_mobilenet_supernet_32xb64_in1k.py'

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='sub_model',
    cfg=_base_.supernet,
    # NOTE: replace the yaml with the subnet searched by yourself
    fix_subnet='{{fileDirname}}/OFA_SUBNET_NOTE8_LAT22.yaml',
    # load a subnet checkpoint into the static model; or set
    # init_weight_from_supernet=True and point `checkpoint` to the supernet's
    init_weight_from_supernet=False,
    init_cfg=dict(
        type='Pretrained',
        checkpoint=  # noqa: E251
        'https://download.openmmlab.com/mmrazor/v1/ofa/ofa_mobilenet_subnet_8xb256_in1k_note8_lat%4022ms_top1%4070.4_finetune%4025.py_20221214_0938-fb7fb84f.pth',  # noqa: E501
        prefix='architecture.'))

model_wrapper_cfg = None
find_unused_parameters = True

test_cfg = dict(evaluate_fixed_subnet=True)
