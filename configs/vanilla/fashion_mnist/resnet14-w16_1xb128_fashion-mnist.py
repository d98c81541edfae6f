# Vanilla student: the reference that distillation must beat on Fashion-MNIST.
_base_ = [
    '../../_base_/models/resnet14-w16_fashion-mnist.py',
    '../../_base_/datasets/fashion_mnist.py',
    '../../_base_/schedules/fashion_mnist_bs128.py',
    '../../_base_/default_runtime.py',
]
model = dict(data_preprocessor={{_base_.data_preprocessor}})
