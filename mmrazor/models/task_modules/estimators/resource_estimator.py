"""``ResourceEstimator``: FLOPs, params and latency of any model, in one call."""
import inspect
from typing import Any, Dict, Optional, Tuple, Union

import torch.nn as nn

from mmrazor.registry import TASK_UTILS
from mmrazor.utils.lookup import closest_names

from .base_estimator import BaseEstimator
from .counters import get_model_flops_params, get_model_latency

Figure = Union[float, str]


def _keys_of(func) -> Tuple[str, ...]:
    return tuple(list(inspect.signature(func).parameters)[1:])


FLOPS_PARAMS_KEYS = tuple(k for k in _keys_of(get_model_flops_params) if k != 'seperate_return')
LATENCY_KEYS = tuple(k for k in _keys_of(get_model_latency) if k != 'return_stats')


def _check_keys(cfg: dict, valid: Tuple[str, ...], what: str) -> None:
    for key in cfg:
        if key not in valid:
            close = closest_names(key, valid)
            raise KeyError(f'unknown key {key!r} in {what}; '
                           f'{"closest: " + ", ".join(close) + "; " if close else ""}'
                           f'valid keys: {", ".join(valid)}')


@TASK_UTILS.register_module()
class ResourceEstimator(BaseEstimator):
    """FLOPs, params and latency of a model.

    Every layer type is counted at its current width (a layer that defines
    ``active_parameters()`` by the weights it uses), attention matmuls included.
    Detectors, segmentors and classifiers of mmdet, mmseg and mmpretrain (and mmrazor
    algorithms around them) are run on a demo batch shaped like their real input, so
    no input needs writing by hand.

    Args:
        input_shape (tuple): Input shape, batch first. Defaults to (1, 3, 224, 224).
        units (dict): Units of ``flops``/``params`` ('G', 'M', 'K' or None) and
            ``latency`` ('s', 'ms', 'us'). Defaults to dict(flops='M', params='M',
            latency='ms').
        as_strings (bool): Return strings instead of numbers. Defaults to False.
        flops_params_cfg (dict, optional): Defaults for the arguments of
            :func:`get_model_flops_params` (``spec_modules``, ``disabled_counters``,
            ``input_constructor``, ...). Defaults to None.
        latency_cfg (dict, optional): Defaults for :func:`get_model_latency`
            (``max_iter``, ``num_warmup``, ``repeat_num``, ...); latency is measured
            only when ``estimate`` gets a latency cfg or this one is set. Defaults to
            None.

    Examples:
        >>> estimator = ResourceEstimator(input_shape=(1, 3, 64, 64))
        >>> estimator.estimate(nn.Conv2d(3, 32, 3))
        {'flops': 3.444, 'params': 0.001, 'latency': 0.0}
    """

    def __init__(self,
                 input_shape: Tuple = (1, 3, 224, 224),
                 units: Dict = dict(flops='M', params='M', latency='ms'),  # noqa: B006
                 as_strings: bool = False,
                 flops_params_cfg: Optional[dict] = None,
                 latency_cfg: Optional[dict] = None) -> None:
        super().__init__(input_shape, units, as_strings)
        self.flops_params_cfg = dict(flops_params_cfg or {})
        self.latency_cfg = dict(latency_cfg or {})
        _check_keys(self.flops_params_cfg, FLOPS_PARAMS_KEYS, 'flops_params_cfg')
        _check_keys(self.latency_cfg, LATENCY_KEYS, 'latency_cfg')

    def _flops_params_cfg(self, override: Optional[dict]) -> Dict[str, Any]:
        cfg = {**self.flops_params_cfg, **(override or {})}
        _check_keys(cfg, FLOPS_PARAMS_KEYS, 'flops_params_cfg')
        cfg.setdefault('input_shape', self.input_shape)
        cfg.setdefault('units', dict(flops=self.units.get('flops', 'M'),
                                     params=self.units.get('params', 'M')))
        cfg.setdefault('as_strings', self.as_strings)
        return cfg

    def _latency_cfg(self, override: Optional[dict]) -> Dict[str, Any]:
        cfg = {**self.latency_cfg, **(override or {})}
        _check_keys(cfg, LATENCY_KEYS, 'latency_cfg')
        cfg.setdefault('input_shape', self.input_shape)
        cfg.setdefault('unit', self.units.get('latency', 'ms'))
        cfg.setdefault('as_strings', self.as_strings)
        return cfg

    def estimate(self, model: nn.Module, flops_params_cfg: Optional[dict] = None,
                 latency_cfg: Optional[dict] = None) -> Dict[str, Any]:
        """Estimate the FLOPs, params and (when configured) latency of ``model``.

        Args:
            model (nn.Module): The measured model; its train/eval mode is restored.
            flops_params_cfg (dict, optional): Overrides of ``flops_params_cfg``.
            latency_cfg (dict, optional): Overrides of ``latency_cfg``; latency is
                measured when this or the constructor's ``latency_cfg`` is given.

        Returns:
            dict: ``flops``, ``params`` and ``latency`` (the median; 0 when not
            measured); with a measured latency also ``latency_stats`` (median, IQR,
            runs, warm-up, batch size, threads, device).
        """
        measure_latency = bool(latency_cfg or self.latency_cfg)
        timing_cfg = self._latency_cfg(latency_cfg)  # checked before the slow work
        flops, params = get_model_flops_params(model, **self._flops_params_cfg(flops_params_cfg))
        result: Dict[str, Any] = dict(flops=flops, params=params)
        if measure_latency:
            latency, stats = get_model_latency(model, return_stats=True, **timing_cfg)
            result.update(latency=latency, latency_stats=stats.to_dict(timing_cfg['unit']))
        else:
            unit = self.units.get('latency', 'ms')
            result['latency'] = f'0.0 {unit}' if self.as_strings else 0.0
        return result

    def estimate_separation_modules(self, model: nn.Module,
                                    flops_params_cfg: Optional[dict] = None
                                    ) -> Dict[str, Dict[str, Figure]]:
        """FLOPs and params of each module in ``flops_params_cfg['spec_modules']``.

        Returns:
            dict: ``{module_name: {'flops': ..., 'params': ...}}``.
        """
        cfg = self._flops_params_cfg(flops_params_cfg)
        if not cfg.get('spec_modules'):
            raise ValueError('estimate_separation_modules needs spec_modules in '
                             "flops_params_cfg, e.g. dict(spec_modules=['backbone', 'head'])")
        return get_model_flops_params(model, seperate_return=True, **cfg)
