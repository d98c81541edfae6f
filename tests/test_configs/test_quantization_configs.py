"""The quantization configs build and run: each MMRazor 1.x PTQ config (mmcls and mmdet,
OpenVINO and TensorRT) calibrates on one batch, the QAT / LSQ configs train one step,
and the Fashion-MNIST PTQ configs run a short real PTQ through tools/ptq.py, whose
checkpoint tests again with --ckpt-quant and converts with convert_quant_ckpt.py.

Float checkpoints are MMRazor's URLs: tests set ``float_checkpoint=None`` or a local
file; inputs are small to stay fast."""
import glob
import importlib.util
import os.path as osp

import pytest
import torch
from mmdet.testing import demo_mm_inputs
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from mmpretrain.structures import DataSample

from mmrazor.engine.runner.quantization_loops import observe_qparams
from mmrazor.models.fake_quants import LearnableFakeQuantize
from mmrazor.registry import MODELS
from mmrazor.utils.weights import cached_file

from ..conftest import REPO_ROOT

QUANT = osp.join(REPO_ROOT, 'configs', 'quantization')
PTQ_BASE = osp.join(QUANT, 'ptq', 'base')
CLS_PTQ = sorted(osp.basename(p) for p in glob.glob(osp.join(PTQ_BASE, '*_in1k_*.py')))
QAT = ['qat/base/qat_openvino_resnet18_10e_8xb32_in1k.py',
       'qat/lsq/lsq_openvino_resnet18_8xb32_10e_in1k.py',
       'qat/lsq/lsq_openvino_resnet18_8xb32_100e_in1k.py',
       'qat/fashion_mnist/qat_openvino_resnet14-w32_fashion-mnist.py',
       'qat/fashion_mnist/lsq_openvino_resnet14-w32_fashion-mnist.py']
FASHION_PTQ = ['ptq_openvino_resnet14-w32_fashion-mnist.py',
               'ptq_openvino_resnet14-w16_fashion-mnist.py']
DET_PTQ = sorted(osp.basename(p) for p in glob.glob(osp.join(PTQ_BASE, '*_coco_*.py')))


def load_tool(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO_ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(cfg: Config, shape: tuple) -> torch.nn.Module:
    cfg.model.float_checkpoint = None
    cfg.model.input_shapes = shape
    return MODELS.build(cfg.model)


def activation_scales(model: torch.nn.Module) -> list:
    return [m.scale.clone() for n, m in model.qmodels['tensor'].named_children()
            if n.endswith('post_act_fake_quant')]


def calibrate_one_batch(model: torch.nn.Module, batch: dict) -> None:
    model.eval()
    observe_qparams(model)
    before = activation_scales(model)
    model.calibrate_step(batch)
    after = activation_scales(model)
    assert len(after) > 5
    assert all(not torch.equal(a, b) for a, b in zip(before, after))


def cls_batch(size: int, channels: int = 3) -> dict:
    return dict(inputs=[torch.randint(0, 256, (channels, size, size), dtype=torch.uint8)
                        for _ in range(2)],
                data_samples=[DataSample().set_gt_label(i) for i in range(2)])


@pytest.mark.parametrize('name', CLS_PTQ)
def test_classification_ptq_config_builds_and_calibrates(name):
    assert len(CLS_PTQ) == 6
    cfg = Config.fromfile(osp.join(PTQ_BASE, name))
    backend = name.split('_')[1]
    assert cfg.test_cfg.type == 'mmrazor.PTQLoop' and cfg.test_cfg.calibrate_steps == 32
    assert cfg.test_cfg.calibrate_dataloader.batch_size == 32
    assert cfg.model.float_checkpoint.startswith('https://download.openmmlab.com/')
    model = build(cfg, (1, 3, 32, 32))
    assert model.deploy_cfg['backend_config']['type'] == backend
    calibrate_one_batch(model, cls_batch(32))
    # OpenVINO: unsigned activations; TensorRT: signed ones
    fake_quant = model.qmodels['tensor'].inputs_post_act_fake_quant
    assert fake_quant.quant_min == (0 if backend == 'openvino' else -128)


@pytest.mark.parametrize('name', DET_PTQ)
def test_detection_ptq_config_builds_and_calibrates(name):
    # a new message hub, without the 'iter' of earlier runs, as a new Runner has
    MessageHub.get_instance(f'quant_config_test_{name}')
    cfg = Config.fromfile(osp.join(PTQ_BASE, name))
    model = build(cfg, (1, 3, 128, 128))
    assert model.deploy_cfg['codebase_config']['type'] == 'mmdet'
    calibrate_one_batch(model, demo_mm_inputs(1, [(3, 128, 128)]))


def test_float_checkpoint_url_is_resolved_offline_with_a_clear_error():
    cfg = Config.fromfile(osp.join(PTQ_BASE, 'ptq_openvino_resnet18_8xb32_in1k_calib32xb32.py'))
    if osp.isfile(cached_file(cfg.model.float_checkpoint)):
        pytest.skip('the ResNet-18 weights are in the local torch.hub cache')
    with pytest.raises(FileNotFoundError, match='mmrazor never downloads'):
        MODELS.build(cfg.model)


@pytest.mark.parametrize('name', QAT)
def test_qat_config_builds_and_trains_one_step(name):
    cfg = Config.fromfile(osp.join(QUANT, name))
    lsq = 'lsq' in name
    assert cfg.train_cfg.type == ('mmrazor.LSQEpochBasedLoop' if lsq
                                  else 'mmrazor.QATEpochBasedLoop')
    assert cfg.val_cfg.type == 'mmrazor.QATValLoop'
    fashion = 'fashion' in name
    model = build(cfg, (1, 1, 28, 28) if fashion else (1, 3, 32, 32))
    assert any(isinstance(m, LearnableFakeQuantize) for m in model.modules()) == lsq
    model.train()
    params = dict(model.named_parameters())
    before = {n: p.detach().clone() for n, p in params.items()}
    optimizer = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    losses = model.train_step(cls_batch(28 if fashion else 32, 1 if fashion else 3), optimizer)
    assert torch.isfinite(losses['loss'])
    assert not torch.equal(params['architecture.backbone.conv1.weight'],
                           before['architecture.backbone.conv1.weight'])


def data_options(root: str, images: int = 64) -> list:
    options = [f'test_cfg.calibrate_dataloader.dataset.data_root={root}',
               'test_cfg.calibrate_dataloader.num_workers=0']
    for split in ('train', 'val', 'test'):
        options += [f'{split}_dataloader.dataset.data_root={root}',
                    f'{split}_dataloader.dataset.indices={images}',
                    f'{split}_dataloader.num_workers=0',
                    f'{split}_dataloader.persistent_workers=False']
    return options


@pytest.mark.parametrize('name', FASHION_PTQ)
def test_fashion_mnist_ptq_runs_through_the_tool_and_converts(name, tmp_path,
                                                              fashion_mnist_root):
    ptq = load_tool('tools/ptq.py', 'ptq_tool')
    converter = load_tool('tools/model_converters/convert_quant_ckpt.py', 'quant_converter')
    config = osp.join(QUANT, 'ptq', 'fashion_mnist', name)
    cfg = Config.fromfile(config)
    # a float model saved as tools/train.py saves it, for float_checkpoint
    float_path = str(tmp_path / 'float.pth')
    torch.manual_seed(0)
    architecture = MODELS.build(cfg.model.architecture)
    torch.save({'state_dict': architecture.state_dict()}, float_path)
    options = data_options(fashion_mnist_root) + [
        'test_cfg.calibrate_steps=2', f'model.float_checkpoint={float_path}']
    metrics = ptq.main([config, '--work-dir', str(tmp_path / 'ptq'), '--cfg-options']
                       + options)
    assert set(metrics) == {'accuracy/top1'}
    (checkpoint, ) = glob.glob(str(tmp_path / 'ptq' / '*' / 'model_ptq.pth'))
    again = ptq.main([config, '--ckpt-quant', checkpoint, '--work-dir',
                      str(tmp_path / 'again'), '--cfg-options'] + options)
    assert again == metrics
    assert not glob.glob(str(tmp_path / 'again' / '*' / 'model_ptq.pth'))
    # the deploy checkpoint is the predict graph: it loads into a fresh one exactly
    deploy = converter.main([checkpoint, '--out-path', str(tmp_path / 'deploy')])
    assert deploy == str(tmp_path / 'deploy' / 'model_ptq_deploy.pth')
    state = torch.load(deploy, weights_only=True)
    assert not any(key.startswith(('qmodels.', 'architecture.')) for key in state['state_dict'])
    calibrated = MODELS.build(cfg.model.to_dict() | dict(float_checkpoint=None))
    calibrated.load_state_dict(torch.load(checkpoint, weights_only=True)['state_dict'])
    fresh = MODELS.build(cfg.model.to_dict() | dict(float_checkpoint=None))
    fresh.qmodels['predict'].load_state_dict(state['state_dict'])
    x = torch.rand(4, 1, 28, 28)
    samples = [DataSample() for _ in range(4)]
    for model in (calibrated, fresh):
        model.eval()
    with torch.no_grad():
        expected = calibrated(x, samples, mode='predict')
        got = fresh.qmodels['predict'](x, [DataSample() for _ in range(4)], 'predict')
    torch.testing.assert_close([s.pred_score for s in got], [s.pred_score for s in expected])


def test_tools_reject_wrong_inputs(tmp_path):
    ptq = load_tool('tools/ptq.py', 'ptq_tool')
    converter = load_tool('tools/model_converters/convert_quant_ckpt.py', 'quant_converter')
    qat = osp.join(QUANT, QAT[0])
    with pytest.raises(ValueError, match="tools/ptq.py runs test_cfg = dict.*PTQLoop"):
        ptq.build_cfg(ptq.parse_args([qat]))
    with pytest.raises(FileNotFoundError, match='--ckpt-quant .* does not exist'):
        ptq.build_cfg(ptq.parse_args([osp.join(QUANT, 'ptq', 'fashion_mnist', FASHION_PTQ[0]),
                                      '--ckpt-quant', str(tmp_path / 'missing.pth')]))
    float_only = str(tmp_path / 'float.pth')
    torch.save({'state_dict': {'architecture.head.fc.weight': torch.zeros(1)}}, float_only)
    with pytest.raises(KeyError, match=r'No "qmodels.predict.\*" weights'):
        converter.main([float_only])


def test_qat_through_the_runner_starts_from_the_float_checkpoint(tmp_path,
                                                                   fashion_mnist_root):
    config = osp.join(QUANT, QAT[3])
    cfg = Config.fromfile(config)
    float_path = str(tmp_path / 'float.pth')
    architecture = MODELS.build(cfg.model.architecture)
    torch.save({'state_dict': architecture.state_dict()}, float_path)
    for split in ('train', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.update(data_root=fashion_mnist_root, indices=32)
        loader.update(num_workers=0, persistent_workers=False, batch_size=32)
    cfg.model.float_checkpoint = float_path
    cfg.update(work_dir=str(tmp_path / 'qat'), val_cfg=None, val_dataloader=None,
               val_evaluator=None, experiment_name=f'qat_{tmp_path.name}')
    cfg.train_cfg.max_epochs = 1
    runner = Runner.from_cfg(cfg)
    runner.train()  # one iteration at lr 1e-3: the weights stay near the float ones
    weight = runner.model.architecture.backbone.conv1.weight
    assert (weight - architecture.backbone.conv1.weight).abs().max() < 0.05
