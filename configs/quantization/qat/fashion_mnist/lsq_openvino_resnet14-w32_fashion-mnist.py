# LSQ (learned step size) QAT of the Fashion-MNIST ResNet-14 w32 to int8: the QAT
# config with learnable scales, estimated from the first batch, then trained:
#   python tools/train.py configs/quantization/qat/fashion_mnist/lsq_openvino_resnet14-w32_fashion-mnist.py
# (train the float model first, see qat_openvino_resnet14-w32_fashion-mnist.py)
_base_ = ['./qat_openvino_resnet14-w32_fashion-mnist.py']

model = dict(
    quantizer=dict(
        global_qconfig=dict(
            w_observer=dict(type='mmrazor.LSQPerChannelObserver'),
            a_observer=dict(type='mmrazor.LSQObserver'),
            w_fake_quant=dict(type='mmrazor.LearnableFakeQuantize'),
            a_fake_quant=dict(type='mmrazor.LearnableFakeQuantize'),
            a_qscheme=dict(
                _delete_=True, qdtype='quint8', bit=8, is_symmetry=False))))

# the first iteration estimates the scales without gradients: unused parameters
model_wrapper_cfg = dict(find_unused_parameters=True)

train_cfg = dict(
    _delete_=True,
    type='mmrazor.LSQEpochBasedLoop',
    max_epochs=2,
    val_interval=1,
    freeze_bn_begin=2)
