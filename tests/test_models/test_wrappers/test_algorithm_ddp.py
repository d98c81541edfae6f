"""AlgorithmDDP on 2 gloo CPU processes: multi-phase and standard ``train_step``.

One spawn runs every scenario (importing mmrazor costs seconds per process); each
rank reports ``'ok'`` or the traceback per scenario, and each test checks one.
"""
import json
import socket
import traceback
from datetime import timedelta
from typing import Callable, Dict, List

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmrazor.models import BaseAlgorithm
from mmrazor.models.wrappers import AlgorithmDDP

from ...kd_helpers import STUDENT_MODEL_CFG, grey_batch
from ..test_algorithms.test_datafree_distillation import ALGORITHMS, _algo, _optim

WORLD_SIZE = 2


def _gathered(tensors: List[torch.Tensor]) -> List[torch.Tensor]:
    """Every rank's concatenation of ``tensors``."""
    flat = torch.cat([tensor.detach().flatten() for tensor in tensors])
    gathered = [torch.empty_like(flat) for _ in range(WORLD_SIZE)]
    dist.all_gather(gathered, flat)
    return gathered


def _in_sync(tensors: List[torch.Tensor]) -> bool:
    first, *others = _gathered(tensors)
    return all(torch.equal(first, other) for other in others)


def _trained(algo: BaseAlgorithm) -> List[torch.Tensor]:
    return list(algo.student.parameters()) + list(algo.generator.parameters())


def _datafree(name: str, wrap: bool) -> None:
    torch.manual_seed(0)
    algo = _algo(name)
    optim = _optim(algo)
    model = AlgorithmDDP(algo) if wrap else algo
    torch.manual_seed(1 + dist.get_rank())  # per-rank generated images
    start = [param.detach().clone() for param in _trained(algo)]
    for _ in range(2):
        model.train_step(grey_batch(), optim)
        assert _in_sync(_trained(algo)) == wrap
    assert all(not torch.equal(a, b) for a, b in zip(start, _trained(algo))
               if a.dim() > 1)
    assert all('step' not in vars(wrapper) for wrapper in optim.values())


def _standard_path() -> None:
    torch.manual_seed(dist.get_rank())  # DDP broadcasts rank 0's parameters
    algo = BaseAlgorithm(dict(cfg_path=STUDENT_MODEL_CFG))
    assert not _in_sync(list(algo.parameters()))
    # device_ids as the Runner passes them; dropped for CPU modules
    model = AlgorithmDDP(algo, device_ids=[dist.get_rank()])
    assert _in_sync(list(algo.parameters()))

    def custom_path(*args):
        raise AssertionError('BaseModel.train_step must take the DDP path')

    model._sync_before_step = custom_path
    optim = OptimWrapper(torch.optim.SGD(algo.parameters(), lr=0.1))
    for step in range(2):
        log_vars = model.train_step(grey_batch(4 + 2 * dist.get_rank() + step), optim)
        assert set(log_vars) == {'loss'}
        assert _in_sync(list(algo.parameters()))


class RankDependentGrads(BaseModel):
    """Rank 1 also trains ``extra``: the ranks' gradients do not match."""

    def __init__(self) -> None:
        super().__init__()
        self.shared, self.extra = nn.Linear(2, 1), nn.Linear(2, 1)

    def forward(self, inputs: torch.Tensor, data_samples=None,
                mode: str = 'tensor') -> torch.Tensor:
        return self.shared(inputs)

    def train_step(self, data: Dict, optim_wrapper: OptimWrapperDict) -> Dict:
        loss = self.shared(data['inputs']).sum()
        if dist.get_rank() == 1:
            loss = loss + self.extra(data['inputs']).sum()
        optim_wrapper['all'].update_params(loss)
        return dict(loss=loss.detach())


def _mismatch() -> None:
    module = RankDependentGrads()
    model = AlgorithmDDP(module)
    wrapper = OptimWrapper(torch.optim.SGD(module.parameters(), lr=0.1))
    with pytest.raises(RuntimeError, match=r'range from 2 to 4 parameters'):
        model.train_step(dict(inputs=torch.ones(3, 2)), OptimWrapperDict(all=wrapper))
    assert 'step' not in vars(wrapper)


SCENARIOS: Dict[str, Callable[[], None]] = {
    **{f'{name}_wrapped': lambda _n=name: _datafree(_n, True) for name in ALGORITHMS},
    'DataFreeDistillation_plain': lambda: _datafree('DataFreeDistillation', False),
    'standard_path': _standard_path,
    'mismatch': _mismatch,
}


def _worker(rank: int, port: int, out_dir: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=WORLD_SIZE, timeout=timedelta(seconds=60))
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
    out_dir = tmp_path_factory.mktemp('algorithm_ddp')
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    mp.spawn(_worker, args=(port, str(out_dir)), nprocs=WORLD_SIZE)
    return [json.loads((out_dir / f'{rank}.json').read_text())
            for rank in range(WORLD_SIZE)]


@pytest.mark.parametrize('scenario', list(SCENARIOS))
def test_algorithm_ddp(results, scenario):
    for rank, result in enumerate(results):
        assert result[scenario] == 'ok', f'rank {rank}:\n{result[scenario]}'
