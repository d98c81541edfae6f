# The compact ResNet-50 DCFF trains (fix_subnet.json: the kept widths). Load the static
# weights exported after DCFF training (tools/pruning/get_static_model_from_algorithm.py)
# with init_cfg=dict(type='Pretrained', checkpoint=...).
_base_ = ['dcff_resnet_8xb32_in1k.py']

# model settings
model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='sub_model',
    cfg=dict(
        cfg_path='mmcls::resnet/resnet50_8xb32_in1k.py', pretrained=False),
    fix_subnet='{{fileDirname}}/fix_subnet.json',
    mode='mutator')

val_cfg = dict(_delete_=True, type='ValLoop')
