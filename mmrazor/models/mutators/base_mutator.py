"""``BaseMutator``: finds the mutables of a supernet and changes their choices."""
from abc import ABC, abstractmethod
from typing import Dict, Generic, List, Optional, TypeVar

import torch.nn as nn
from mmengine.model import BaseModule

MUTABLE_TYPE = TypeVar('MUTABLE_TYPE')


class BaseMutator(BaseModule, ABC, Generic[MUTABLE_TYPE]):
    """Owns the search (or pruning) space of a model.

    ``prepare_from_supernet`` is called once with the model; afterwards the mutator
    sets choices through ``search_groups``: mutables in one group share one choice.

    Args:
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)

    @abstractmethod
    def prepare_from_supernet(self, supernet: nn.Module) -> None:
        """Find (or create) the mutables of ``supernet``."""

    @property
    @abstractmethod
    def search_groups(self) -> Dict[int, List[MUTABLE_TYPE]]:
        """Groups of mutables that take one choice, by group id."""
