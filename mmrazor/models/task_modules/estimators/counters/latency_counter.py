"""Latency: warm-up, many timed runs, and the median with its spread.

A single timing says little on a shared CPU; the figure is the median of
``repeat_num * max_iter`` timed forward passes after ``num_warmup`` untimed ones, and
the batch size, thread count and device are reported beside it.
"""
import logging
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log

from ..units import convert_time
from .counting import run_model


@dataclass
class LatencyStats:
    """Timings of one latency measurement, in seconds per forward pass.

    Args:
        median (float): Median time.
        mean (float): Mean time.
        stdev (float): Standard deviation.
        iqr (float): Inter-quartile range (75th minus 25th percentile).
        min (float): Fastest run.
        max (float): Slowest run.
        runs (int): Timed runs.
        warmup (int): Untimed runs before them.
        batch_size (int): Samples per forward pass.
        num_threads (int): ``torch.get_num_threads()`` during the measurement.
        device (str): Where the model ran.
    """
    median: float
    mean: float
    stdev: float
    iqr: float
    min: float
    max: float
    runs: int
    warmup: int
    batch_size: int
    num_threads: int
    device: str

    def to_dict(self, unit: str = 'ms') -> Dict[str, Any]:
        """The stats with times in ``unit``."""
        stats = asdict(self)
        for key in ('median', 'mean', 'stdev', 'iqr', 'min', 'max'):
            stats[key] = convert_time(stats[key], unit)
        stats['unit'] = unit
        return stats

    def describe(self, unit: str = 'ms') -> str:
        """``'12.3 ms (median of 100 runs after 5 warm-up; IQR 0.4 ms; batch 1,
        2 threads, cpu)'``."""
        return (f'{convert_time(self.median, unit)} {unit} (median of {self.runs} runs '
                f'after {self.warmup} warm-up; IQR {convert_time(self.iqr, unit)} {unit}; '
                f'batch {self.batch_size}, {self.num_threads} threads, {self.device})')


def _device_of(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device('cpu')


def measure_latency(model: nn.Module,
                    data: Any,
                    batch_size: int,
                    max_iter: int = 100,
                    num_warmup: int = 5,
                    log_interval: int = 100,
                    repeat_num: int = 1) -> LatencyStats:
    """Time ``model`` on ``data`` (a tensor or keyword arguments) under ``no_grad``.

    Args:
        model (nn.Module): The model, already in the mode to time (``eval()``).
        data (Any): The input, as for :func:`run_model`.
        batch_size (int): Samples in ``data``, reported with the figure.
        max_iter (int): Timed runs per repetition. Defaults to 100.
        num_warmup (int): Untimed runs before each repetition. Defaults to 5.
        log_interval (int): Log progress every this many runs. Defaults to 100.
        repeat_num (int): Repetitions; all their runs make one sample. Defaults to 1.
    """
    for key, value, least in (('max_iter', max_iter, 1), ('num_warmup', num_warmup, 0),
                              ('repeat_num', repeat_num, 1), ('log_interval', log_interval, 1)):
        if not isinstance(value, int) or value < least:
            raise ValueError(f'{key} must be an integer >= {least}, got {value!r}')
    device = _device_of(model)
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    times = []
    with torch.no_grad():
        for _ in range(repeat_num):
            for _ in range(num_warmup):
                run_model(model, data)
            sync()
            for i in range(max_iter):
                start = time.perf_counter()
                run_model(model, data)
                sync()
                times.append(time.perf_counter() - start)
                if (i + 1) % log_interval == 0:
                    print_log(f'latency: {i + 1}/{max_iter} runs, median so far '
                              f'{statistics.median(times) * 1e3:.3f} ms',
                              logger='current', level=logging.DEBUG)
    quartiles = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    return LatencyStats(
        median=statistics.median(times), mean=statistics.fmean(times),
        stdev=statistics.stdev(times) if len(times) > 1 else 0.0,
        iqr=quartiles[2] - quartiles[0], min=min(times), max=max(times),
        runs=len(times), warmup=num_warmup * repeat_num, batch_size=batch_size,
        num_threads=torch.get_num_threads(), device=str(device))


def get_model_latency(model: nn.Module,
                      input_shape: Tuple = (1, 3, 224, 224),
                      unit: str = 'ms',
                      as_strings: bool = False,
                      max_iter: int = 100,
                      num_warmup: int = 5,
                      log_interval: int = 100,
                      repeat_num: int = 1,
                      input_constructor: Optional[Callable[[Tuple], Any]] = None,
                      return_stats: bool = False
                      ) -> Union[float, str, Tuple[Union[float, str], LatencyStats]]:
    """Median latency of ``model`` per forward pass of a batch of ``input_shape``.

    Args:
        model (nn.Module): The measured model (put in eval mode for the measurement).
        input_shape (tuple): Input shape, batch first. Defaults to (1, 3, 224, 224).
        unit (str): 's', 'ms' or 'us'. Defaults to 'ms'.
        as_strings (bool): Return a string with the spread, batch size, thread count
            and device beside the median. Defaults to False.
        max_iter (int): Timed runs. Defaults to 100.
        num_warmup (int): Untimed warm-up runs. Defaults to 5.
        log_interval (int): Log progress every this many runs. Defaults to 100.
        repeat_num (int): Repetitions of warm-up + timed runs. Defaults to 1.
        input_constructor (Callable, optional): ``input_shape -> input`` (a tensor, or
            a dict of keyword arguments). Defaults to the model's demo input.
        return_stats (bool): Also return the :class:`LatencyStats`. Defaults to False.
    """
    from .flops_params_counter import make_input
    convert_time(0.0, unit)  # fail on an unknown unit before timing
    data, batch_size = make_input(model, input_shape, input_constructor)
    was_training = model.training
    model.eval()
    try:
        stats = measure_latency(model, data, batch_size, max_iter, num_warmup,
                                log_interval, repeat_num)
    finally:
        model.train(was_training)
    value = stats.describe(unit) if as_strings else convert_time(stats.median, unit)
    return (value, stats) if return_stats else value
