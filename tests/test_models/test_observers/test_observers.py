"""Observers: torch's reachable by name in MODELS and computing what torch computes;
LSQ observers' initial scale against the formula of the paper, also across 2 gloo
processes."""
import math
import os.path as osp
import socket

import pytest
import torch
import torch.ao.quantization.observer as torch_observer
import torch.multiprocessing as mp

from mmrazor.models.observers import TORCH_OBSERVERS, LSQObserver, LSQPerChannelObserver
from mmrazor.registry import MODELS

EXPECTED_TORCH_OBSERVERS = [
    'FixedQParamsObserver', 'HistogramObserver', 'MinMaxObserver', 'MovingAverageMinMaxObserver',
    'MovingAveragePerChannelMinMaxObserver', 'NoopObserver', 'ObserverBase',
    'PerChannelMinMaxObserver', 'PlaceholderObserver', 'RecordingObserver',
    'ReuseInputObserver', 'UniformQuantizationObserverBase'
]


def data(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * 3


@pytest.mark.parametrize('name', EXPECTED_TORCH_OBSERVERS)
def test_every_torch_observer_is_registered_under_its_torch_name(name):
    assert name in TORCH_OBSERVERS
    assert MODELS.get(f'mmrazor.{name}') is getattr(torch_observer, name)


def test_aliases_of_torch_observers_are_not_registered_twice():
    # torch.ao.quantization.observer.default_debug_observer is RecordingObserver itself.
    assert torch_observer.default_debug_observer is torch_observer.RecordingObserver
    assert MODELS.get('default_debug_observer') is None
    assert not any(name.startswith(('_', 'default')) for name in TORCH_OBSERVERS)


OBSERVER_CFGS = [
    dict(type='mmrazor.MinMaxObserver'),
    dict(type='mmrazor.MinMaxObserver', dtype=torch.qint8, qscheme=torch.per_tensor_symmetric),
    dict(type='mmrazor.MovingAverageMinMaxObserver', averaging_constant=0.1),
    dict(type='mmrazor.PerChannelMinMaxObserver', ch_axis=1, dtype=torch.qint8,
         qscheme=torch.per_channel_symmetric, quant_min=-127, quant_max=127),
    dict(type='mmrazor.MovingAveragePerChannelMinMaxObserver', ch_axis=0),
    dict(type='mmrazor.HistogramObserver', bins=256),
    dict(type='mmrazor.FixedQParamsObserver', scale=1 / 128, zero_point=128),
]


@pytest.mark.parametrize('cfg', OBSERVER_CFGS, ids=lambda cfg: cfg['type'].split('.')[1])
def test_observer_built_from_config_computes_the_qparams_of_the_torch_class(cfg):
    args = {key: value for key, value in cfg.items() if key != 'type'}
    built = MODELS.build(cfg)
    reference = getattr(torch_observer, cfg['type'].split('.')[1])(**args)
    assert type(built) is type(reference)
    for seed in range(3):  # moving averages and histograms depend on every batch
        batch = data(4, 3, 5, seed=seed)
        built(batch)
        reference(batch)
    scale, zero_point = built.calculate_qparams()
    expected_scale, expected_zero_point = reference.calculate_qparams()
    torch.testing.assert_close(scale, expected_scale, rtol=0, atol=0)
    torch.testing.assert_close(zero_point, expected_zero_point, rtol=0, atol=0)
    # the qparams come from the data: a different batch gives a different scale
    if 'Fixed' not in cfg['type']:
        built(data(4, 3, 5, seed=9) * 10)
        assert not torch.equal(built.calculate_qparams()[0], expected_scale)


def test_unknown_observer_type_names_the_close_ones():
    with pytest.raises(KeyError, match="Unknown type 'PerChanelMinMaxObserver'.*"
                       'Closest registered names: .*PerChannelMinMaxObserver'):
        MODELS.build(dict(type='PerChanelMinMaxObserver'))


def test_lsq_observer_scale_is_twice_the_mean_abs_over_sqrt_quant_max():
    observer = MODELS.build(dict(type='mmrazor.LSQObserver', quant_min=0, quant_max=255))
    x = torch.tensor([[-1., 2.], [3., -4.]])  # mean |x| = 2.5
    observer(x)
    scale, zero_point = observer.calculate_qparams()
    torch.testing.assert_close(scale, torch.tensor([2 * 2.5 / math.sqrt(255)]))
    # the zero point is MinMaxObserver's for the same qscheme and data
    minmax = torch_observer.MinMaxObserver(quant_min=0, quant_max=255)
    minmax(x)
    assert torch.equal(zero_point, minmax.calculate_qparams()[1])
    # min/max accumulate; the LSQ scale follows the latest tensor (as in MMRazor)
    observer(torch.tensor([0.5, -0.5]))
    torch.testing.assert_close(observer.calculate_qparams()[0],
                               torch.tensor([2 * 0.5 / math.sqrt(255)]))
    assert (observer.min_val.item(), observer.max_val.item()) == (-4., 3.)


@pytest.mark.parametrize('ch_axis', [0, 1])
def test_lsq_per_channel_observer_scale_per_channel(ch_axis):
    observer = LSQPerChannelObserver(ch_axis=ch_axis, dtype=torch.qint8,
                                     qscheme=torch.per_channel_symmetric, quant_min=-127,
                                     quant_max=127)
    x = data(3, 4, 2, seed=1)
    observer(x)
    scale, zero_point = observer.calculate_qparams()
    expected = torch.stack([2 * x.select(ch_axis, c).abs().mean() / math.sqrt(127)
                            for c in range(x.shape[ch_axis])])
    torch.testing.assert_close(scale, expected)
    reference = torch_observer.PerChannelMinMaxObserver(
        ch_axis=ch_axis, dtype=torch.qint8, qscheme=torch.per_channel_symmetric,
        quant_min=-127, quant_max=127)
    reference(x)
    assert torch.equal(zero_point, reference.calculate_qparams()[1])


def test_lsq_observer_needs_data_and_never_gives_a_zero_scale():
    observer = LSQObserver()
    with pytest.raises(RuntimeError, match='LSQObserver has observed no tensor yet'):
        observer.calculate_qparams()
    observer(torch.zeros(4))
    assert observer.calculate_qparams()[0].item() == torch.finfo(torch.float32).eps


def sync_worker(rank: int, port: int, out_dir: str) -> None:
    torch.distributed.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                                         rank=rank, world_size=2)
    observer = LSQObserver(quant_min=0, quant_max=255)
    observer(torch.full((4, ), float(rank + 1)))  # mean |x|: 1 on rank 0, 2 on rank 1
    trained = observer.calculate_qparams()[0]
    observer.eval()  # evaluation may run on one rank only: no collective call
    observer(torch.full((4, ), float(rank + 1)))
    evaluated = observer.calculate_qparams()[0]
    torch.save(dict(trained=trained, evaluated=evaluated), osp.join(out_dir, f'{rank}.pth'))
    torch.distributed.destroy_process_group()


def test_lsq_observer_ranks_agree_on_the_initial_scale_in_training(tmp_path):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    mp.spawn(sync_worker, args=(port, str(tmp_path)), nprocs=2)
    for rank in range(2):
        result = torch.load(tmp_path / f'{rank}.pth', weights_only=True)
        torch.testing.assert_close(result['trained'], torch.tensor([2 * 1.5 / math.sqrt(255)]))
        torch.testing.assert_close(result['evaluated'],
                                   torch.tensor([2 * (rank + 1) / math.sqrt(255)]))
