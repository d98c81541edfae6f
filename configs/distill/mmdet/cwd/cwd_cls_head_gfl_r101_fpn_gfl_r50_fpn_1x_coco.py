# Channel-wise Distillation of GFL on COCO: ResNet-101 (multi-scale 2x) teacher ->
# ResNet-50 student. As in MMRazor 1.x, this is the RetinaNet FPN setting with GFL
# models (despite "cls_head" in the name, the five FPN levels are distilled; GFL's
# FPN has the same five output convs).
_base_ = ['./cwd_fpn_retina_r101_retina_r50_1x_coco.py']

# Released mmdet weights (https://download.openmmlab.com/mmdetection/v2.0/gfl/
# gfl_r101_fpn_mstrain_2x_coco/gfl_r101_fpn_mstrain_2x_coco_20200629_200126-dd12f847.pth):
# download once, then point here. (MMRazor 1.x also set pretrained=True on the
# teacher, which downloads the same weights; teacher_ckpt loads them already.)
teacher_ckpt = 'checkpoints/gfl_r101_fpn_mstrain_2x_coco_20200629_200126-dd12f847.pth'
model = dict(
    architecture=dict(
        cfg_path='mmdet::gfl/gfl_r50_fpn_1x_coco.py', pretrained=False),
    teacher=dict(
        cfg_path='mmdet::gfl/gfl_r101_fpn_ms-2x_coco.py', pretrained=False),
    teacher_ckpt=teacher_ckpt)
