"""``BaseRecorder``: the interface of all recorders."""
from typing import Any, List, Optional

import torch.nn as nn


class BaseRecorder:
    """Records data seen during a forward, for distillation losses and analysis.

    A recorder is built from its ``source`` (what to record), then
    :meth:`initialize` checks the source against the model and installs what it
    needs. Data is recorded only inside ``with recorder:``; entering starts a new
    record list, so the records are those of the forward run in the context.

    Args:
        source (str): What to record; its format depends on the recorder.
    """

    def __init__(self, source: str) -> None:
        self._source = source
        self._data_buffer: List[Any] = []
        self._recording = False

    @property
    def source(self) -> str:
        """str: What this recorder records."""
        return self._source

    @property
    def data_buffer(self) -> List[Any]:
        """list: The records, one per call seen in the context."""
        return self._data_buffer

    @property
    def recording(self) -> bool:
        """bool: Whether the recorder is entered and recording."""
        return self._recording

    def prepare_from_model(self, model: Optional[nn.Module] = None) -> None:
        """Check the source against ``model`` and install hooks (none here).

        Args:
            model (nn.Module, optional): The model to record from. Defaults to None.
        """

    def initialize(self, model: Optional[nn.Module] = None) -> None:
        """Prepare the recorder for ``model`` and clear its records.

        Args:
            model (nn.Module, optional): The model to record from; recorders of
                modules and parameters need it. Defaults to None.
        """
        self.prepare_from_model(model)
        self.reset_data_buffer()

    def reset_data_buffer(self) -> None:
        """Drop all records."""
        self._data_buffer = []

    def get_record_data(self, record_idx: int = 0, data_idx: Optional[int] = None) -> Any:
        """Return one record, or one item of it.

        Args:
            record_idx (int): Which call of the source in the last forward. Defaults
                to 0.
            data_idx (int, optional): Which item of a tuple/list record; None returns
                the whole record. Defaults to None.

        Returns:
            Any: The record or its item.
        """
        try:
            record = self._data_buffer[record_idx]
        except IndexError:
            raise IndexError(f'{self!r} has {len(self._data_buffer)} record(s), so '
                             f'record_idx={record_idx} is out of range') from None
        if data_idx is None:
            return record
        if not isinstance(record, (tuple, list)):
            raise TypeError(f'data_idx={data_idx} needs a tuple or list record, but '
                            f'record {record_idx} of {self!r} is a '
                            f'{type(record).__name__}')
        try:
            return record[data_idx]
        except IndexError:
            raise IndexError(f'Record {record_idx} of {self!r} has {len(record)} '
                             f'item(s), so data_idx={data_idx} is out of range') from None

    def __enter__(self) -> 'BaseRecorder':
        if self._recording:
            raise RuntimeError(f'{self!r} is already recording; a recorder cannot be '
                               'entered twice')
        self.reset_data_buffer()
        self._recording = True
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        self._recording = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}('{self._source}')"
