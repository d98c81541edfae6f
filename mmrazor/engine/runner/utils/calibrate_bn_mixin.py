"""``CalibrateBNMixin``: exact batch-norm statistics of the subnet now chosen."""
from typing import Any, Dict, List

import torch
import torch.distributed as dist
from mmengine.runner import autocast
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.data import DataLoader


def _all_reduce_sum(value: torch.Tensor) -> torch.Tensor:
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(value, dist.ReduceOp.SUM)
    return value


def _take(data_batch: Any, num: int) -> Any:
    """The first ``num`` samples of a batch (a tensor, a list or a dict of them)."""
    if isinstance(data_batch, dict):
        return {key: _take(value, num) for key, value in data_batch.items()}
    if isinstance(data_batch, (torch.Tensor, list, tuple)):
        return data_batch[:num]
    return data_batch


def _batch_size(data_batch: Any) -> int:
    inputs = data_batch['inputs'] if isinstance(data_batch, dict) else data_batch
    return len(inputs)


class _Moments:
    """Sum of per-batch mean and (unbiased) variance, weighted by batch size."""

    def __init__(self) -> None:
        self.mean_sum: Any = 0.
        self.var_sum: Any = 0.
        self.count = 0

    def __call__(self, module: _BatchNorm, args: tuple, output: torch.Tensor) -> None:
        x = args[0]
        dims = [0] + list(range(2, x.dim()))
        num = torch.tensor([x.size(0)], device=x.device, dtype=torch.float64)
        self.mean_sum = self.mean_sum + _all_reduce_sum(x.mean(dims).double() * num)
        self.var_sum = self.var_sum + _all_reduce_sum(x.var(dims, unbiased=True).double() * num)
        self.count += int(_all_reduce_sum(num).item())


class CalibrateBNMixin:
    """Adds ``calibrate_bn_statistics`` to a loop that has ``self.runner``.

    A subnet of a supernet never trained alone has running statistics that do not
    match its features; the true average of per-batch means and variances over a few
    thousand training images does (as SPOS / BigNAS evaluate subnets).
    """

    runner: Any
    fp16: bool = False

    @torch.no_grad()
    def calibrate_bn_statistics(self, dataloader: DataLoader,
                                calibrate_sample_num: int = 2000) -> None:
        """Replace the running mean/var of every batch norm the current subnet uses by
        the average over ``calibrate_sample_num`` samples of ``dataloader`` (summed
        over all ranks). Norms the subnet does not run are left alone.

        Args:
            dataloader (DataLoader): Usually the runner's train dataloader.
            calibrate_sample_num (int): Samples to average over (all ranks
                together). Defaults to 2000.
        """
        if calibrate_sample_num <= 0:
            raise ValueError(f'calibrate_sample_num must be > 0, got {calibrate_sample_num}')
        model = self.runner.model
        meters: Dict[str, _Moments] = {}
        handles: List[Any] = []
        for name, module in model.named_modules():
            if isinstance(module, _BatchNorm) and module.track_running_stats:
                meters[name] = _Moments()
                handles.append(module.register_forward_hook(meters[name]))
        was_training = model.training
        model.train()  # batch statistics in the forward, as in training
        device = next(model.parameters()).device
        remaining = calibrate_sample_num
        try:
            for data_batch in dataloader:
                if _batch_size(data_batch) > remaining:
                    data_batch = _take(data_batch, remaining)
                local = torch.tensor([_batch_size(data_batch)], dtype=torch.float64, device=device)
                remaining -= int(_all_reduce_sum(local).item())
                with autocast(enabled=self.fp16):
                    model.test_step(data_batch)
                if remaining <= 0:
                    break
        finally:
            for handle in handles:
                handle.remove()
            model.train(was_training)
        modules = dict(model.named_modules())
        for name, meter in meters.items():
            if meter.count == 0:  # off the chosen path
                continue
            norm = modules[name]
            dim = meter.mean_sum.numel()  # a dynamic norm may run narrower
            norm.running_mean[:dim].copy_(meter.mean_sum / meter.count)
            norm.running_var[:dim].copy_(meter.var_sum / meter.count)
        self.runner.logger.info(f'Calibrated batch norm statistics on '
                                f'{calibrate_sample_num - max(remaining, 0)} samples')
