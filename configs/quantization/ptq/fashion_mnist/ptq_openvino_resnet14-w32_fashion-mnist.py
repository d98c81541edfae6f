# Post-training quantization (PTQ) of the Fashion-MNIST ResNet-14 w32 to int8
# (OpenVINO / torch x86 kernels / QDQ ONNX): 32 calibration batches of 32 training
# images, then the 10k test images with the quantized model. Train the float model
# first (or point float_checkpoint at any checkpoint of the vanilla config):
#   python tools/train.py configs/vanilla/fashion_mnist/resnet14-w32_1xb128_fashion-mnist.py \
#       --work-dir work_dirs/demo_compression/teacher --cfg-options train_cfg.max_epochs=2
#   python tools/ptq.py configs/quantization/ptq/fashion_mnist/ptq_openvino_resnet14-w32_fashion-mnist.py
# The calibrated model is saved as work_dirs/<config>/<timestamp>/model_ptq.pth.
_base_ = ['../../../vanilla/fashion_mnist/resnet14-w32_1xb128_fashion-mnist.py']

float_checkpoint = 'work_dirs/demo_compression/teacher/epoch_2.pth'

# calibrate on training images (shuffled), never on the test set that is reported
calibrate_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=_base_.dataset_type,
        data_root=_base_.data_root,
        split='train',
        pipeline=_base_.test_pipeline))
test_cfg = dict(
    type='mmrazor.PTQLoop',
    calibrate_dataloader=calibrate_dataloader,
    calibrate_steps=32)

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
