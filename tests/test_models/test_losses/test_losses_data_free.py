"""DAFL generator losses against formulas written out here; the gathered entropy runs
in 2 processes on gloo."""
import os.path as osp
import socket

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mmrazor.models.losses import ActivationLoss, InformationEntropyLoss, OnehotLikeLoss


def logits(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64) * 2


def np_softmax_rows(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def np_entropy_loss(x: np.ndarray) -> float:
    p = np_softmax_rows(x).mean(axis=0)
    return float(np.sum(p * np.log(p) / np.log(10)))


def test_onehot_like_loss_matches_formula_and_trains_through_the_teacher():
    T = logits(3, 4, seed=1).requires_grad_()
    x = T.detach().numpy()
    expected = -np.mean(np.log(np_softmax_rows(x)[np.arange(3), x.argmax(axis=1)]))
    loss = OnehotLikeLoss(loss_weight=2.0)(T)
    assert loss.item() == pytest.approx(2.0 * expected, rel=1e-10)
    loss.backward()
    assert T.grad is not None


def test_information_entropy_loss_matches_formula_and_trains_through_the_teacher():
    T = logits(5, 3, seed=2).requires_grad_()
    loss = InformationEntropyLoss(loss_weight=0.5)(T)
    assert loss.item() == pytest.approx(0.5 * np_entropy_loss(T.detach().numpy()), rel=1e-10)
    loss.backward()
    assert T.grad is not None


@pytest.mark.parametrize('norm_type', ['abs', 'norm'])
def test_activation_loss_matches_formula(norm_type):
    F_T = logits(2, 3, 2, seed=3).requires_grad_()
    x = F_T.detach().numpy()
    activation = np.abs(x).mean() if norm_type == 'abs' else np.sqrt((x**2).sum())
    loss = ActivationLoss(loss_weight=0.1, norm_type=norm_type)(F_T)
    assert loss.item() == pytest.approx(-0.1 * activation, rel=1e-10)
    loss.backward()
    assert F_T.grad is not None


@pytest.mark.parametrize('loss_fn', [OnehotLikeLoss(), InformationEntropyLoss(),
                                     ActivationLoss(norm_type='norm')],
                         ids=lambda loss: type(loss).__name__)
def test_losses_in_float32_match_float64(loss_fn):
    """Training runs in float32: each loss must give the float64 value checked above."""
    T = logits(4, 5, seed=4)
    in_float32 = loss_fn(T.float())
    assert in_float32.dtype == torch.float32
    assert in_float32.item() == pytest.approx(loss_fn(T).item(), rel=1e-5)


def test_activation_loss_rejects_unknown_norm_type():
    with pytest.raises(ValueError, match=r"ActivationLoss: norm_type='l2' is not valid; "
                       r"valid values are \['abs', 'norm'\]"):
        ActivationLoss(norm_type='l2')


def gather_worker(rank: int, port: int, out_dir: str) -> None:
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=2)
    preds = logits(2, 3, seed=10 + rank).requires_grad_()
    loss = InformationEntropyLoss()(preds)
    loss.backward()
    torch.save(dict(loss=loss.detach(), grad=preds.grad), osp.join(out_dir, f'{rank}.pth'))
    dist.destroy_process_group()


def test_information_entropy_loss_gathers_the_batches_of_all_processes(tmp_path):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    mp.spawn(gather_worker, args=(port, str(tmp_path)), nprocs=2)
    both = torch.cat([logits(2, 3, seed=10), logits(2, 3, seed=11)]).requires_grad_()
    expected = np_entropy_loss(both.detach().numpy())
    # The gradient each process keeps is that of its own rows in the gathered loss.
    probs = torch.softmax(both, dim=1).mean(dim=0)
    (probs * torch.log(probs) / np.log(10)).sum().backward()
    for rank in range(2):
        result = torch.load(tmp_path / f'{rank}.pth')
        assert result['loss'].item() == pytest.approx(expected, rel=1e-10)
        torch.testing.assert_close(result['grad'], both.grad[2 * rank:2 * rank + 2])
