# The compact PointRend DCFF trains (fix_subnet.json: the kept widths). Load the static
# weights exported after DCFF training with
# init_cfg=dict(type='Pretrained', checkpoint=...).
_base_ = ['dcff_pointrend_resnet50_8xb2_cityscapes.py']

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='sub_model',
    cfg=_base_.architecture,
    fix_subnet='{{fileDirname}}/fix_subnet.json',
    mode='mutator')

val_cfg = dict(_delete_=True, type='ValLoop')
