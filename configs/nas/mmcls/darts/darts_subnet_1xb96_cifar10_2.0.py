# Retrain the DARTS paper's cell (DARTS_SUBNET_CIFAR_PAPER_ALIAS.yaml) as a 20-cell
# network of 36 base channels with an auxiliary tower, on CIFAR-10.
_base_ = [
    'mmrazor::_base_/settings/cifar10_darts_subnet.py',
    'mmrazor::_base_/nas_backbones/darts_supernet.py',
    'mmcls::_base_/default_runtime.py',
]

subnet_backbone = _base_.nas_backbone
subnet_backbone.base_channels = 36
subnet_backbone.num_layers = 20
subnet_backbone.auxliary = True
subnet_backbone.aux_channels = 128
subnet_backbone.aux_out_channels = 768
subnet_backbone.out_indices = (19, )
subnet_backbone.norm_cfg = norm_cfg = dict(type='BN', affine=True)

# model (scoped: mmrazor.sub_model builds it in the mmrazor scope)
supernet = dict(
    _scope_='mmcls',
    type='ImageClassifier',
    data_preprocessor=_base_.preprocess_cfg,
    backbone=subnet_backbone,
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='mmrazor.DartsSubnetClsHead',
        num_classes=10,
        in_channels=576,
        aux_in_channels=768,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        aux_loss=dict(type='CrossEntropyLoss', loss_weight=0.4),
        topk=(1, 5),
        cal_acc=True))

model = dict(
    type='mmrazor.sub_model',
    cfg=supernet,
    # NOTE: You can replace the yaml with the mutable_cfg searched by yourself
    fix_subnet='{{fileDirname}}/DARTS_SUBNET_CIFAR_PAPER_ALIAS.yaml',
    init_cfg=dict(
        type='Pretrained',
        checkpoint=  # noqa: E251
        'https://download.openmmlab.com/mmrazor/v1/darts/darts_subnetnet_1xb96_cifar10_acc-97.27_20211222-17e42600_latest.pth',  # noqa: E501
        prefix='architecture.'))

model_wrapper_cfg = None
find_unused_parameters = True
