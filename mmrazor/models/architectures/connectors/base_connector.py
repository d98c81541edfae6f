"""``BaseConnector``: the interface of the distillation connectors."""
from abc import ABCMeta, abstractmethod
from typing import Any, Dict, Optional

from mmengine.model import BaseModule


class BaseConnector(BaseModule, metaclass=ABCMeta):
    """Adapts a recorded feature (of the student or the teacher) before a loss.

    Subclasses implement :meth:`forward_train`; :meth:`forward` calls it.

    Args:
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def __init__(self, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)

    def forward(self, feature: Any) -> Any:
        """Return the adapted ``feature``."""
        return self.forward_train(feature)

    @abstractmethod
    def forward_train(self, feature: Any) -> Any:
        """Adapt ``feature``."""
