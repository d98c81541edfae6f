# The compact Faster R-CNN DCFF trains (fix_subnet.json: the kept widths). Load the
# static weights exported after DCFF training with
# init_cfg=dict(type='Pretrained', checkpoint=...).
_base_ = ['dcff_faster_rcnn_resnet50_8xb4_coco.py']

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='sub_model',
    cfg=_base_.architecture,
    fix_subnet='{{fileDirname}}/fix_subnet.json',
    mode='mutator')

val_cfg = dict(_delete_=True, type='ValLoop')
