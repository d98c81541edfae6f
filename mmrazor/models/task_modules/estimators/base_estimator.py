"""``BaseEstimator``: the interface of resource estimators (FLOPs, params, latency)."""
from abc import ABCMeta, abstractmethod
from typing import Dict, Optional, Tuple, Union

import torch.nn as nn

from mmrazor.registry import TASK_UTILS

from .counters.flops_params_counter import check_input_shape
from .units import check_units


@TASK_UTILS.register_module()
class BaseEstimator(metaclass=ABCMeta):
    """Estimates the resources a model needs.

    Args:
        input_shape (tuple): Input shape, batch first. Defaults to (1, 3, 224, 224).
        units (dict): Units of ``flops`` and ``params`` ('G', 'M', 'K' or None) and of
            ``latency`` ('s', 'ms' or 'us'). Defaults to dict(flops='M', params='M',
            latency='ms').
        as_strings (bool): Return strings (``'4109.5 MFLOPs'``) instead of numbers.
            Defaults to False.
    """

    def __init__(self,
                 input_shape: Tuple = (1, 3, 224, 224),
                 units: Dict = dict(flops='M', params='M', latency='ms'),  # noqa: B006
                 as_strings: bool = False) -> None:
        check_units(units)
        self.input_shape = check_input_shape(input_shape)
        self.units = dict(units)
        self.as_strings = as_strings

    @abstractmethod
    def estimate(self, model: nn.Module, flops_params_cfg: Optional[dict] = None,
                 latency_cfg: Optional[dict] = None) -> Dict[str, Union[float, str]]:
        """The resources of ``model``: a dict with ``flops``, ``params``, ``latency``."""
