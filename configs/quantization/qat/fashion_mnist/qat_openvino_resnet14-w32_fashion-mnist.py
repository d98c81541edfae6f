# Quantization-aware training (QAT) of the Fashion-MNIST
# ResNet-14 w32 to int8 (OpenVINO / torch x86 kernels / QDQ ONNX), fine-tuning the
# trained float model for 2 epochs:
#   python tools/train.py configs/vanilla/fashion_mnist/resnet14-w32_1xb128_fashion-mnist.py \
#       --work-dir work_dirs/demo_compression/teacher --cfg-options train_cfg.max_epochs=2
#   python tools/train.py configs/quantization/qat/fashion_mnist/qat_openvino_resnet14-w32_fashion-mnist.py
# Validation reports the quantized model (qat.*) and the float one (original.*).
_base_ = ['../../../vanilla/fashion_mnist/resnet14-w32_1xb128_fashion-mnist.py']

float_checkpoint = 'work_dirs/demo_compression/teacher/epoch_2.pth'

# int8: per-channel symmetric weights; affine (asymmetric) activations, which keep the
# full 256 levels for the non-negative outputs of ReLUs (OpenVINO and torch's x86
# kernels run both)
global_qconfig = dict(
    w_observer=dict(type='mmrazor.PerChannelMinMaxObserver'),
    a_observer=dict(type='mmrazor.MovingAverageMinMaxObserver'),
    w_fake_quant=dict(type='mmrazor.FakeQuantize'),
    a_fake_quant=dict(type='mmrazor.FakeQuantize'),
    w_qscheme=dict(
        qdtype='qint8', bit=8, is_symmetry=True, is_symmetric_range=True),
    a_qscheme=dict(qdtype='quint8', bit=8, is_symmetry=False, averaging_constant=0.1),
)

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='MMArchitectureQuant',
    data_preprocessor=_base_.data_preprocessor,
    architecture=_base_.model,
    float_checkpoint=float_checkpoint,
    input_shapes=(1, 1, 28, 28),
    quantizer=dict(
        type='mmrazor.OpenVINOQuantizer',
        global_qconfig=global_qconfig,
        tracer=dict(
            type='mmrazor.CustomTracer',
            skipped_methods=[
                'mmcls.models.heads.ClsHead._get_loss',
                'mmcls.models.heads.ClsHead._get_predictions'
            ])))

model_wrapper_cfg = dict(
    type='mmrazor.MMArchitectureQuantDDP',
    broadcast_buffers=False,
    find_unused_parameters=False)

# fine-tuning: a small constant learning rate (the float model trained with 0.1)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=5e-4))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]

train_cfg = dict(
    _delete_=True,
    type='mmrazor.QATEpochBasedLoop',
    max_epochs=2,
    val_interval=1,
    disable_observer_begin=2,
    freeze_bn_begin=2)
val_cfg = dict(_delete_=True, type='mmrazor.QATValLoop')

# every rank saves the same observer buffers and BN statistics
default_hooks = dict(sync=dict(type='SyncBuffersHook'))
