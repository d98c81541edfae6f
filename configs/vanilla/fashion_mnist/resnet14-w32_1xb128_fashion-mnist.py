# Vanilla teacher for the Fashion-MNIST distillation configs.
_base_ = [
    '../../_base_/models/resnet14-w32_fashion-mnist.py',
    '../../_base_/datasets/fashion_mnist.py',
    '../../_base_/schedules/fashion_mnist_bs128.py',
    '../../_base_/default_runtime.py',
]
model = dict(data_preprocessor={{_base_.data_preprocessor}})
