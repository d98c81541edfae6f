"""``BaseDistiller``: what a distillation algorithm needs from its distiller."""
from abc import ABC, abstractmethod
from typing import Dict, Optional

import torch
from mmengine.model import BaseModule


class BaseDistiller(BaseModule, ABC):
    """Computes distillation losses from what it recorded during the forwards.

    Args:
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def __init__(self, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)

    @abstractmethod
    def compute_distill_losses(self) -> Dict[str, torch.Tensor]:
        """Return the distillation losses of the last student/teacher forwards."""
