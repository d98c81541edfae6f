"""DARTS (first and second order) and DSNAS on 2 gloo CPU processes through
``DartsDDP`` / ``DSNASDDP`` (the one ``AlgorithmDDP``): with different batches on each
rank (and, for DSNAS, different sampled paths) the weights and the architecture
parameters stay the same on both ranks after every step.

One spawn runs every scenario; each rank reports ``'ok'`` or the traceback."""
import json
import socket
import traceback
from datetime import timedelta
from typing import Callable, Dict, List

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mmrazor.registry import MODEL_WRAPPERS

from ...kd_helpers import grey_batch
from ..test_wrappers.test_algorithm_ddp import WORLD_SIZE, _in_sync
from .test_darts import batch, optimizers, tiny_darts
from .test_dsnas import at_epoch, dsnas, ops
from .test_dsnas import optimizers as dsnas_optimizers


def _darts(unroll: bool) -> None:
    torch.manual_seed(dist.get_rank())
    algo = tiny_darts(unroll)
    model = MODEL_WRAPPERS.build(dict(type='mmrazor.DartsDDP', module=algo))
    start = [p.detach().clone() for p in algo.parameters()]
    optim = optimizers(algo)
    for step in range(2):
        rank_batch = 10 * dist.get_rank() + 2 * step  # each rank its own data
        model.train_step((batch(rank_batch), batch(rank_batch + 1)), optim)
        assert _in_sync(list(algo.parameters()))
    assert not _in_sync([batch(10 * dist.get_rank())['inputs']])
    assert all(not torch.equal(a, b) for a, b in zip(start, algo.parameters()))


def _dsnas() -> None:
    algo = dsnas(flops_constraints=1.0)
    model = MODEL_WRAPPERS.build(dict(type='mmrazor.DSNASDDP', module=algo))
    optim = dsnas_optimizers(algo)
    at_epoch(0)
    torch.manual_seed(1 + dist.get_rank())  # each rank samples its own paths
    sampled = []
    for step in range(2):
        model.train_step(grey_batch(4 + 2 * dist.get_rank() + step), optim)
        assert _in_sync(list(algo.parameters()))
        sampled.append(torch.stack([op.arch_weights.detach() for op in ops(algo).values()]))
    assert not _in_sync(sampled)  # the ranks trained different paths


SCENARIOS: Dict[str, Callable[[], None]] = {
    'darts_first_order': lambda: _darts(False),
    'darts_second_order': lambda: _darts(True),
    'dsnas': _dsnas,
}


def _worker(rank: int, port: int, out_dir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=WORLD_SIZE, timeout=timedelta(seconds=120))
    results = {}
    for name, scenario in SCENARIOS.items():
        try:
            scenario()
            results[name] = 'ok'
        except Exception:  # report every scenario, not only the first failure
            results[name] = traceback.format_exc()
        dist.barrier()
    dist.destroy_process_group()
    with open(f'{out_dir}/{rank}.json', 'w') as file:
        json.dump(results, file)


@pytest.fixture(scope='module')
def results(tmp_path_factory) -> List[Dict[str, str]]:
    """Each rank's ``scenario -> 'ok' | traceback``."""
    out_dir = tmp_path_factory.mktemp('darts_dsnas_ddp')
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    mp.spawn(_worker, args=(port, str(out_dir)), nprocs=WORLD_SIZE)
    return [json.loads((out_dir / f'{rank}.json').read_text())
            for rank in range(WORLD_SIZE)]


@pytest.mark.parametrize('scenario', list(SCENARIOS))
def test_ranks_stay_in_sync(results, scenario):
    for rank, result in enumerate(results):
        assert result[scenario] == 'ok', f'rank {rank}:\n{result[scenario]}'
