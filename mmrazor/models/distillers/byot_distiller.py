"""``BYOTDistiller``: the distiller of Zhang et al., "Be Your Own Teacher: Improve the
Performance of Convolutional Neural Networks via Self Distillation" (ICCV 2019)."""
from typing import Any, Optional

import torch

from mmrazor.registry import MODELS

from .configurable_distiller import ConfigurableDistiller


def _detach(record: Any) -> Any:
    """``record`` with every tensor in it (also in tuples and lists) detached."""
    if isinstance(record, torch.Tensor):
        return record.detach()
    if isinstance(record, (tuple, list)):
        return type(record)(_detach(item) for item in record)
    return record


@MODELS.register_module()
class BYOTDistiller(ConfigurableDistiller):
    """Self-distillation: the "teacher" records are the deepest layers of the same
    network as the student records, so they are detached (after any connector)
    and the distillation losses train only the shallow classifiers and the layers
    below them.

    Args: the same as :class:`ConfigurableDistiller`.
    """

    def get_record(self,
                   recorder: str,
                   from_student: bool,
                   record_idx: int = 0,
                   data_idx: Optional[int] = None,
                   connector: Optional[str] = None,
                   connector_idx: Optional[int] = None) -> Any:
        """One recorded value, optionally through a connector; detached if it
        comes from the teacher side (``from_student=False``)."""
        record = super().get_record(recorder, from_student, record_idx, data_idx,
                                    connector, connector_idx)
        return record if from_student else _detach(record)
