"""``DistillDeliveryManager``: builds and enters a group of deliveries."""
from typing import Dict, Optional

from ..recorder.context_group import ContextGroup
from .distill_delivery import DistillDelivery


class DistillDeliveryManager(ContextGroup[DistillDelivery]):
    """A named group of deliveries that is entered and switched as one.

    Args:
        deliveries (dict, optional): Name to delivery config. A config's ``type`` is
            ``'FunctionOutputs'`` or ``'MethodOutputs'``; the ``Delivery`` suffix is
            appended before building from ``TASK_UTILS``. Defaults to None (no
            deliveries).

    Example:
        >>> manager = DistillDeliveryManager(dict(sample=dict(
        ...     type='FunctionOutputs', func_path='my_pkg.augment.random_crop',
        ...     max_keep_data=1)))
        >>> manager.override_data = False
        >>> with manager:
        ...     teacher(inputs)  # random_crop runs, its output is queued
        >>> manager.override_data = True
        >>> with manager:
        ...     student(inputs)  # random_crop returns the teacher's output
    """

    SUFFIX = 'Delivery'
    KIND = 'delivery'
    VALID_TYPES = ('FunctionOutputs', 'MethodOutputs')

    def __init__(self, deliveries: Optional[Dict[str, dict]] = None) -> None:
        super().__init__(deliveries)
        self._override_data = False

    @property
    def deliveries(self) -> Dict[str, DistillDelivery]:
        """Dict[str, DistillDelivery]: The deliveries by name."""
        return self._members

    @property
    def override_data(self) -> bool:
        """bool: Whether the deliveries return queued outputs (the student side)."""
        return self._override_data

    @override_data.setter
    def override_data(self, override: bool) -> None:
        self._override_data = override
        for delivery in self._members.values():
            delivery.override_data = override
