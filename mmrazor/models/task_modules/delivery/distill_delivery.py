"""``DistillDelivery``: the base of deliveries."""
import functools
from abc import ABCMeta, abstractmethod
from collections import deque
from typing import Any, Callable, Deque


class DistillDelivery(metaclass=ABCMeta):
    """Delivers the outputs of a callable from the teacher's run to the student's.

    Some steps must give the teacher and the student the same result, e.g. the same
    random crop or sampling. While entered, a delivery patches the callable:

    * ``override_data=False`` (the teacher's run): the callable runs and its output
      is queued.
    * ``override_data=True`` (the student's run): the callable does not run; the
      oldest queued output is popped and returned instead.

    Args:
        max_keep_data (int): How many outputs the queue keeps: at least the number
            of calls in one teacher run; the student's calls get them in call order.
            As in MMRazor 1.x, queuing more (the teacher calls the callable more often
            than the student consumes) or delivering from an empty queue is an error,
            never a silent drop. Defaults to 1.
    """

    def __init__(self, max_keep_data: int = 1) -> None:
        if max_keep_data < 1:
            raise ValueError(f'max_keep_data must be >= 1, got {max_keep_data}')
        self.max_keep_data = max_keep_data
        self.data_queue: Deque[Any] = deque(maxlen=max_keep_data)
        self._override_data = False

    @property
    def override_data(self) -> bool:
        """bool: Whether calls return queued outputs instead of running."""
        return self._override_data

    @override_data.setter
    def override_data(self, override: bool) -> None:
        self._override_data = override

    def deliver_wrapper(self, origin: Callable) -> Callable:
        """Return the replacement of ``origin`` that queues or delivers its outputs.

        Args:
            origin (Callable): The patched callable.

        Returns:
            Callable: The replacement.
        """

        @functools.wraps(origin)
        def deliver(*args, **kwargs):
            if self.override_data:
                if not self.data_queue:
                    raise RuntimeError(
                        f'{self!r} has no output to deliver: run the teacher side with '
                        'override_data=False first, as often as the student side calls '
                        'it')
                return self.data_queue.popleft()
            if len(self.data_queue) == self.max_keep_data:
                raise RuntimeError(
                    f'{self!r} already keeps max_keep_data={self.max_keep_data} '
                    'output(s) that the student side has not consumed; raise '
                    'max_keep_data if the teacher side calls it more often')
            outputs = origin(*args, **kwargs)
            self.data_queue.append(outputs)
            return outputs

        return deliver

    @abstractmethod
    def __enter__(self) -> 'DistillDelivery':
        """Patch the callable."""

    @abstractmethod
    def __exit__(self, exc_type, exc_value, traceback) -> None:
        """Restore the callable."""
