# Post-training quantization (PTQ) of the Fashion-MNIST ResNet-14 w16 (the student) to
# int8, as ptq_openvino_resnet14-w32_fashion-mnist.py does for w32. Train the float
# model first (or point float_checkpoint at any checkpoint of the vanilla config):
#   python tools/train.py configs/vanilla/fashion_mnist/resnet14-w16_1xb128_fashion-mnist.py \
#       --work-dir work_dirs/demo_compression/student --cfg-options train_cfg.max_epochs=1
#   python tools/ptq.py configs/quantization/ptq/fashion_mnist/ptq_openvino_resnet14-w16_fashion-mnist.py
_base_ = ['./ptq_openvino_resnet14-w32_fashion-mnist.py']

# the w16 model of configs/_base_/models/resnet14-w16_fashion-mnist.py
model = dict(
    architecture=dict(
        backbone=dict(stem_channels=16, base_channels=16),
        head=dict(in_channels=64)),
    float_checkpoint='work_dirs/demo_compression/student/epoch_1.pth')
