"""MMArchitectureQuant: one fake-quantized graph per mode, shared quantization."""
import pytest
import torch
from mmpretrain.structures import DataSample

from mmrazor.models import MMArchitectureQuant
from mmrazor.models.quantizers import QConvBn2d
from mmrazor.models.wrappers import AlgorithmDDP
from mmrazor.registry import MODEL_WRAPPERS, MODELS

from ..test_quantizers.helpers import AFFINE_QCONFIG, SKIPPED_METHODS, calibrate, small_classifier


def _algorithm(**kwargs):
    cfg = dict(type='mmrazor.MMArchitectureQuant', architecture=small_classifier(),
               input_shapes=(1, 1, 16, 16),
               quantizer=dict(type='mmrazor.OpenVINOQuantizer', global_qconfig=AFFINE_QCONFIG,
                              tracer=dict(type='mmrazor.CustomTracer',
                                          skipped_methods=SKIPPED_METHODS)))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _samples(num):
    return [DataSample().set_gt_label(i % 10) for i in range(num)]


def test_modes_share_layers_and_fake_quants():
    algo = _algorithm()
    assert set(algo.qmodels) == {'tensor', 'predict', 'loss'}
    tensor, loss = algo.qmodels['tensor'], algo.qmodels['loss']
    assert tensor.backbone_conv1_qat is loss.backbone_conv1_qat
    assert tensor.backbone_conv1_qat.conv is algo.architecture.backbone.conv1
    algo.eval()
    calibrate(tensor, [torch.rand(8, 1, 16, 16) for _ in range(3)])
    fq = loss.head_fc_qat_post_act_fake_quant
    assert fq.scale.item() != 1.0  # calibrated through the tensor graph
    x, samples = torch.rand(6, 1, 16, 16), _samples(6)
    with torch.no_grad():
        logits = algo(x, mode='tensor')
        preds = algo(x, samples, mode='predict')
    assert len(preds) == 6
    torch.testing.assert_close(torch.stack([p.pred_score for p in preds]),
                               logits.softmax(1))


def test_loss_step_trains_architecture_weights_with_fake_quant():
    algo = _algorithm()
    algo.eval()
    calibrate(algo.qmodels['tensor'], [torch.rand(8, 1, 16, 16)])
    algo.train()
    before = algo.architecture.backbone.conv1.weight.detach().clone()
    optim = torch.optim.SGD(algo.parameters(), lr=0.1)
    losses = algo(torch.rand(4, 1, 16, 16), _samples(4), mode='loss')
    losses['loss'].backward()
    optim.step()
    assert not torch.equal(algo.architecture.backbone.conv1.weight, before)
    assert len(list(algo.parameters())) == len({id(p) for p in algo.parameters()})


def test_float_checkpoint_is_loaded_before_tracing(tmp_path):
    donor = small_classifier()
    with torch.no_grad():
        donor.backbone.conv1.weight.mul_(3)
    path = tmp_path / 'float.pth'
    torch.save({'state_dict': donor.state_dict()}, path)
    algo = _algorithm(float_checkpoint=str(path))
    torch.testing.assert_close(algo.architecture.backbone.conv1.weight,
                               donor.backbone.conv1.weight)
    fused = next(m for m in algo.qmodels['tensor'].modules() if isinstance(m, QConvBn2d))
    assert fused.conv is algo.architecture.backbone.conv1


def test_deploy_int8_and_onnx_agree_with_the_fake_quant_model(tmp_path):
    algo = _algorithm(forward_modes=('tensor', ))
    algo.eval()
    calibrate(algo.qmodels['tensor'], [torch.rand(8, 1, 16, 16) for _ in range(3)])
    deploy = algo.get_deploy_model()
    int8 = algo.get_int8_model()
    x = torch.rand(4, 1, 16, 16)
    with torch.no_grad():
        fake, real = deploy(x), int8(x)
    assert (fake - real).abs().max() < 0.05 * fake.abs().max()
    path = algo.export_onnx(tmp_path / 'q.onnx', input_shape=(1, 1, 16, 16))
    import onnxruntime as ort
    out = ort.InferenceSession(path).run(None, {'inputs': x.numpy()})[0]
    assert abs(out - fake.numpy()).max() < 0.05 * fake.abs().max()


def test_bad_modes_and_the_ddp_alias():
    with pytest.raises(ValueError, match="'train'"):
        _algorithm(forward_modes=('train', ))
    algo = _algorithm(forward_modes=('tensor', ))
    with pytest.raises(RuntimeError, match="no graph for mode 'loss'"):
        algo(torch.rand(2, 1, 16, 16), None, mode='loss')
    with pytest.raises(KeyError, match='predict'):
        algo.sync_qparams('predict')
    assert MODEL_WRAPPERS.get('MMArchitectureQuantDDP') is AlgorithmDDP
    assert isinstance(algo, MMArchitectureQuant)
