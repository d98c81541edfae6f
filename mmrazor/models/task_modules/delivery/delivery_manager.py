"""``DistillDeliveryManager``: builds and enters a group of deliveries."""
import copy
from contextlib import ExitStack
from typing import Dict, Optional

from mmrazor.registry import TASK_UTILS

from .distill_delivery import DistillDelivery


class DistillDeliveryManager:
    """A named group of deliveries that is entered and switched as one.

    Args:
        deliveries (dict, optional): Name to delivery config. A config's ``type`` is
            ``'FunctionOutputs'`` or ``'MethodOutputs'``; the ``Delivery`` suffix is
            appended before building from ``TASK_UTILS``. Defaults to None (no
            deliveries).

    Example:
        >>> manager = DistillDeliveryManager(dict(sample=dict(
        ...     type='FunctionOutputs', func_path='my_pkg.augment.random_crop')))
        >>> manager.override_data = False
        >>> with manager:
        ...     teacher(inputs)  # random_crop runs, its output is queued
        >>> manager.override_data = True
        >>> with manager:
        ...     student(inputs)  # random_crop returns the teacher's output
    """

    VALID_TYPES = ('FunctionOutputs', 'MethodOutputs')
    SUFFIX = 'Delivery'

    def __init__(self, deliveries: Optional[Dict[str, dict]] = None) -> None:
        self._deliveries = {name: self._build(name, cfg)
                            for name, cfg in (deliveries or {}).items()}
        self._override_data = False
        self._exit_stack: Optional[ExitStack] = None

    def _build(self, name: str, cfg: dict) -> DistillDelivery:
        cfg = copy.deepcopy(dict(cfg))
        if cfg.get('type') not in self.VALID_TYPES:
            raise ValueError(f'Delivery {name!r} has type {cfg.get("type")!r}; the '
                             f'valid types are {list(self.VALID_TYPES)}')
        cfg['type'] += self.SUFFIX
        return TASK_UTILS.build(cfg)

    @property
    def deliveries(self) -> Dict[str, DistillDelivery]:
        """Dict[str, DistillDelivery]: The deliveries by name."""
        return self._deliveries

    @property
    def override_data(self) -> bool:
        """bool: Whether the deliveries return queued outputs (the student side)."""
        return self._override_data

    @override_data.setter
    def override_data(self, override: bool) -> None:
        self._override_data = override
        for delivery in self._deliveries.values():
            delivery.override_data = override

    def __enter__(self) -> 'DistillDeliveryManager':
        if self._exit_stack is not None:
            raise RuntimeError('This DistillDeliveryManager is already entered')
        with ExitStack() as stack:
            for delivery in self._deliveries.values():
                stack.enter_context(delivery)
            self._exit_stack = stack.pop_all()
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        """Exit every delivery, in reverse order, even if one of them fails."""
        stack, self._exit_stack = self._exit_stack, None
        stack.__exit__(exc_type, exc_value, traceback)
