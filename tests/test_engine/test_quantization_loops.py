"""The quantization loops in real MMEngine Runners on Fashion-MNIST slices, with a small
mmpretrain ResNet wrapped by MMArchitectureQuant: PTQ calibrates, saves and tests; QAT
trains and switches observers / BN at the configured epochs (also on two gloo
processes); LSQ estimates its scales once and then learns them; QATValLoop reports the
quantized and the float model."""
import copy
import glob
import os.path as osp
from typing import Dict, List

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from torch.ao.quantization import FakeQuantize
from torch.utils.data import DataLoader

from mmrazor.engine.runner import PTQLoop
from mmrazor.models.fake_quants import LearnableFakeQuantize
from mmrazor.models.quantizers import QConvBn2d
from mmrazor.registry import LOOPS
from mmrazor.utils.weights import load_weights

from ..conftest import REPO_ROOT
from ..test_tools.test_train_test import assert_ok, run_tool

VANILLA = osp.join(REPO_ROOT, 'configs/vanilla/fashion_mnist/'
                   'resnet14-w16_1xb128_fashion-mnist.py')
SKIPPED = ['mmcls.models.heads.ClsHead._get_loss',
           'mmcls.models.heads.ClsHead._get_predictions']
W_QSCHEME = dict(qdtype='qint8', bit=8, is_symmetry=True, is_symmetric_range=True)
MINMAX_QCONFIG = dict(
    w_observer=dict(type='mmrazor.PerChannelMinMaxObserver'),
    a_observer=dict(type='mmrazor.MovingAverageMinMaxObserver'),
    w_fake_quant=dict(type='mmrazor.FakeQuantize'),
    a_fake_quant=dict(type='mmrazor.FakeQuantize'),
    w_qscheme=W_QSCHEME,
    a_qscheme=dict(qdtype='quint8', bit=8, is_symmetry=False, averaging_constant=0.1))
LSQ_QCONFIG = dict(
    w_observer=dict(type='mmrazor.LSQPerChannelObserver'),
    a_observer=dict(type='mmrazor.LSQObserver'),
    w_fake_quant=dict(type='mmrazor.LearnableFakeQuantize'),
    a_fake_quant=dict(type='mmrazor.LearnableFakeQuantize'),
    w_qscheme=W_QSCHEME,
    a_qscheme=dict(qdtype='quint8', bit=8, is_symmetry=False))


def quant_cfg(data_root: str, work_dir: str, qconfig: dict = MINMAX_QCONFIG) -> Config:
    """A vanilla Fashion-MNIST config whose model is a small ResNet under
    MMArchitectureQuant, on 64-image slices in batches of 32."""
    cfg = Config.fromfile(VANILLA)
    architecture = cfg.model.to_dict()
    architecture['backbone'].update(num_stages=2, stem_channels=8, base_channels=8,
                                    strides=(1, 2), dilations=(1, 1), out_indices=(1, ))
    architecture['head']['in_channels'] = 16
    cfg.model = dict(
        type='mmrazor.MMArchitectureQuant', architecture=architecture,
        input_shapes=(1, 1, 28, 28),
        quantizer=dict(type='mmrazor.OpenVINOQuantizer', global_qconfig=qconfig,
                       tracer=dict(type='mmrazor.CustomTracer', skipped_methods=SKIPPED)))
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.update(data_root=data_root, indices=64)
        loader.update(num_workers=0, persistent_workers=False, batch_size=32)
    cfg.train_dataloader.sampler.shuffle = False
    # a unique experiment name: MMEngine shares one logger per name (a timestamp)
    cfg.update(work_dir=work_dir, experiment_name=f'quant_{osp.basename(work_dir)}')
    cfg.param_scheduler = None
    cfg.optim_wrapper.optimizer.lr = 0.01
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1)
    cfg.randomness = dict(seed=0)
    return cfg


def activation_fake_quants(model: torch.nn.Module) -> List[torch.nn.Module]:
    graph = model.qmodels['tensor']
    return [module for name, module in graph.named_children()
            if name.endswith('post_act_fake_quant')]


def ptq_cfg(data_root: str, work_dir: str, **loop) -> Config:
    cfg = quant_cfg(data_root, work_dir)
    cfg.test_cfg = dict(type='mmrazor.PTQLoop', calibrate_dataloader=copy.deepcopy(
        cfg.train_dataloader.to_dict()), **loop)
    return cfg


class Recorder(Hook):
    """Record the quantization state of the model around training / validation."""

    def __init__(self) -> None:
        self.iters: List[Dict] = []
        self.epoch_ends: List[Dict] = []
        self.val_outputs: List = []
        self.val_metrics: List[Dict] = []

    @staticmethod
    def state(runner) -> Dict:
        model = runner.model
        fake_quant = activation_fake_quants(model)[1]
        conv_bn = next(m for m in model.qmodels['loss'].modules() if isinstance(m, QConvBn2d))
        return dict(epoch=runner.epoch, scale=fake_quant.scale.detach().clone(),
                    observer=int(fake_quant.observer_enabled[0]),
                    fake_quant=int(fake_quant.fake_quant_enabled[0]),
                    learning=int(getattr(fake_quant, 'learning_enabled', [0])[0]),
                    freeze_bn=conv_bn.freeze_bn,
                    running_mean=conv_bn.bn.running_mean.clone())

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self.iters.append(dict(before=self.state(runner)))

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.iters[-1]['after'] = self.state(runner)

    def after_train_epoch(self, runner) -> None:
        self.epoch_ends.append(self.state(runner))

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        # the scores, not the samples: both passes write into the batch's DataSamples
        self.val_outputs.append((data_batch, [out.pred_score.clone() for out in outputs]))

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.val_metrics.append(dict(metrics))


def test_ptq_loop_calibrates_saves_and_tests_the_quantized_model(tmp_path,
                                                                 fashion_mnist_root):
    runner = Runner.from_cfg(ptq_cfg(fashion_mnist_root, str(tmp_path), calibrate_steps=1))
    model = runner.model
    fake_quants = activation_fake_quants(model)
    assert all(fq.scale.item() == 1.0 for fq in fake_quants)  # torch's initial qparams
    x = torch.rand(8, 1, 28, 28)
    metrics = runner.test()
    assert set(metrics) == {'accuracy/top1'}
    # calibrated: every activation has qparams from data, observers are off, fake-quant on
    assert all(fq.scale.item() != 1.0 for fq in fake_quants)
    assert all(fq.observer_enabled[0] == 0 and fq.fake_quant_enabled[0] == 1
               for fq in model.modules() if isinstance(fq, FakeQuantize))
    log = open(glob.glob(osp.join(runner.log_dir, '*.log'))[0]).read()
    assert '1 batch(es) of calibrate_dataloader (calibrate_steps=1)' in log
    with torch.no_grad():
        quantized = model(x, mode='tensor')
        float_out = model.architecture(x, mode='tensor')
    error = (quantized - float_out).abs().max()
    assert 0 < error < 0.2 * float_out.abs().max()
    # model_ptq.pth holds the calibrated model; only_val (tools/ptq.py --ckpt-quant)
    # tests it without calibrating again: same qparams, outputs and metrics
    path = osp.join(str(tmp_path), runner.timestamp, 'model_ptq.pth')
    assert load_weights(path)['meta']['experiment_name'] == runner.experiment_name
    cfg = ptq_cfg(fashion_mnist_root, str(tmp_path / 'again'), only_val=True)
    cfg.load_from = path
    again = Runner.from_cfg(cfg)
    assert again.test() == metrics
    assert not glob.glob(str(tmp_path / 'again' / '*' / 'model_ptq.pth'))
    for loaded, calibrated in zip(activation_fake_quants(again.model), fake_quants):
        assert torch.equal(loaded.scale, calibrated.scale)
    with torch.no_grad():
        torch.testing.assert_close(again.model(x, mode='tensor'), quantized)


def test_ptq_loop_rejects_missing_calibration_and_float_models(tmp_path,
                                                              fashion_mnist_root):
    cfg = ptq_cfg(fashion_mnist_root, str(tmp_path), calibrate_steps=0)
    with pytest.raises(ValueError, match='calibrate_steps must be a positive int .*got 0'):
        Runner.from_cfg(cfg).test()
    runner = Runner.from_cfg(ptq_cfg(fashion_mnist_root, str(tmp_path / 'empty')))
    loop = LOOPS.build(dict(type='mmrazor.PTQLoop', runner=runner,
                            dataloader=runner.cfg.test_dataloader,
                            evaluator=runner.cfg.test_evaluator,
                            calibrate_dataloader=DataLoader([])))
    assert isinstance(loop, PTQLoop)
    with pytest.raises(RuntimeError, match='calibrate_dataloader gave no batch'):
        loop.run()
    runner = Runner.from_cfg(ptq_cfg(fashion_mnist_root, str(tmp_path / 'uncalibrated'),
                                     only_val=True))
    with pytest.raises(RuntimeError, match=r'only_val=True\) tests a calibrated model, '
                                           r'but \d+ observers never saw data'):
        runner.test()
    cfg = ptq_cfg(fashion_mnist_root, str(tmp_path / 'float'))
    cfg.model = Config.fromfile(VANILLA).model
    with pytest.raises(TypeError, match='PTQLoop needs a quantization algorithm with '
                                        '"calibrate_step"'):
        Runner.from_cfg(cfg).test()


def test_qat_loop_trains_and_switches_observers_and_bn_at_their_epochs(
        tmp_path, fashion_mnist_root):
    # 4-bit: coarse enough that the quantized and float predictions surely differ
    qconfig = copy.deepcopy(MINMAX_QCONFIG)
    qconfig['w_qscheme']['bit'] = qconfig['a_qscheme']['bit'] = 4
    cfg = quant_cfg(fashion_mnist_root, str(tmp_path), qconfig)
    cfg.train_cfg = dict(type='mmrazor.QATEpochBasedLoop', max_epochs=2, val_interval=2,
                         disable_observer_begin=2, freeze_bn_begin=2)
    cfg.val_cfg = dict(type='mmrazor.QATValLoop')
    runner = Runner.from_cfg(cfg)
    recorder = Recorder()
    runner.register_hook(recorder)
    weight = runner.model.architecture.backbone.conv1.weight
    before = weight.detach().clone()
    runner.train()
    assert not torch.equal(weight, before)  # training reached the architecture
    first, second = recorder.iters[:2], recorder.iters[2:]
    assert len(first) == len(second) == 2
    # epoch 1: observers on, BN statistics updated; the qparams follow the data
    assert all(it['before']['observer'] == 1 and not it['before']['freeze_bn'] for it in first)
    assert not torch.equal(first[0]['after']['scale'], first[1]['after']['scale'])
    assert not torch.equal(first[0]['after']['running_mean'],
                           first[1]['after']['running_mean'])
    # epoch 2 (disable_observer_begin = freeze_bn_begin = 2): both frozen
    assert all(it['before']['observer'] == 0 and it['before']['freeze_bn'] for it in second)
    for it in second:
        torch.testing.assert_close(it['after']['scale'], first[-1]['after']['scale'])
        torch.testing.assert_close(it['after']['running_mean'],
                                   first[-1]['after']['running_mean'])
    # every epoch ends with the qparams frozen, before the checkpoint hook runs
    assert [(s['observer'], s['fake_quant']) for s in recorder.epoch_ends] == [(0, 1)] * 2
    # QATValLoop: the quantized model (qat.*), then the float architecture (original.*)
    assert set(recorder.val_metrics[-1]) == {'qat.accuracy/top1', 'original.accuracy/top1'}
    outputs = recorder.val_outputs
    assert len(outputs) == 2 * len(runner.val_dataloader)
    model = runner.model
    data_batch, quantized = outputs[0]
    _, original = outputs[len(runner.val_dataloader)]
    with torch.no_grad():
        data = model.data_preprocessor(data_batch, False)
        expected_q = [out.pred_score.clone() for out in model(**data, mode='predict')]
        expected_f = [out.pred_score for out in model.architecture(**data, mode='predict')]
    torch.testing.assert_close(quantized, expected_q)
    torch.testing.assert_close(original, expected_f)
    assert not torch.equal(quantized[0], original[0])


def test_lsq_loop_estimates_the_scales_once_then_learns_them(tmp_path, fashion_mnist_root):
    cfg = quant_cfg(fashion_mnist_root, str(tmp_path), LSQ_QCONFIG)
    cfg.train_cfg = dict(type='mmrazor.LSQEpochBasedLoop', max_epochs=2, val_interval=5,
                         freeze_bn_begin=2)
    runner = Runner.from_cfg(cfg)
    recorder = Recorder()
    runner.register_hook(recorder)
    fake_quant = activation_fake_quants(runner.model)[1]
    assert isinstance(fake_quant, LearnableFakeQuantize) and fake_quant.scale.item() == 1.0
    runner.train()
    iters = recorder.iters
    # iteration 1: the observer sets the scale (static estimate), nothing is learned
    assert (iters[0]['before']['observer'], iters[0]['before']['learning']) == (1, 0)
    estimated = iters[0]['after']['scale']
    assert estimated.item() != 1.0
    # then: the scale learns by backprop, step after step, without the observer
    assert all((it['before']['observer'], it['before']['learning']) == (0, 1)
               for it in iters[1:])
    scales = [estimated] + [it['after']['scale'] for it in iters[1:]]
    assert all(not torch.equal(a, b) for a, b in zip(scales, scales[1:]))
    assert [it['before']['freeze_bn'] for it in iters] == [False, False, True, True]
    # epochs end in validation mode: fixed qparams, fake-quant on
    assert [(s['observer'], s['learning'], s['fake_quant'])
            for s in recorder.epoch_ends] == [(0, 0, 1)] * 2


DDP_OPTIONS = ['model.float_checkpoint=None', 'train_cfg.max_epochs=2',
               'default_hooks.logger.interval=1']


@pytest.mark.parametrize('config', [
    'qat_openvino_resnet14-w32_fashion-mnist.py',
    'lsq_openvino_resnet14-w32_fashion-mnist.py'])
def test_qat_trains_on_two_gloo_processes(config, tmp_path, fashion_mnist_root):
    config = osp.join('configs/quantization/qat/fashion_mnist', config)
    options = [f'{split}_dataloader.{key}' for split in ('train', 'val')
               for key in (f'dataset.data_root={fashion_mnist_root}', 'dataset.indices=64',
                           'batch_size=16', 'num_workers=0', 'persistent_workers=False')]
    log = assert_ok(run_tool(['bash', 'tools/dist_train.sh', config, '2', '--work-dir',
                              str(tmp_path), '--cfg-options'] + options + DDP_OPTIONS))
    for epoch in (1, 2):
        assert f'Epoch(val) [{epoch}][2/2]    qat.accuracy/top1' in log
    assert 'original.accuracy/top1' in log and 'loss: nan' not in log
    # the best checkpoint is chosen by the quantized model's accuracy
    assert glob.glob(str(tmp_path / 'best_qat.accuracy_top1_epoch_*.pth'))
    state = load_weights(str(tmp_path / 'epoch_2.pth'))['state_dict']
    flags = [(int(v[0]), int(state[k.replace('observer_enabled', 'fake_quant_enabled')][0]))
             for k, v in state.items() if k.endswith('.observer_enabled')]
    assert flags and set(flags) == {(0, 1)}  # saved with the qparams frozen
