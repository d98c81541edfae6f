"""``DynamicSequential``: a stack of blocks whose depth is searchable."""
import itertools
from typing import Dict, Iterator, Optional, Tuple, Type

import torch
import torch.nn as nn
from mmengine.model import Sequential

from ..mixins.dynamic_mixins import DynamicMixin


class DynamicSequential(Sequential, DynamicMixin):
    """An mmengine ``Sequential`` that runs only its first ``depth`` blocks.

    ``depth`` follows a mutable value (registered with
    ``register_mutable_attr('depth', mutable)``); without one all blocks run.
    ``to_static_op`` keeps the first ``depth`` blocks. The mutable is not a
    submodule here (it would be one more block), so the model must hold it as a
    module for subnet export to find it, as ``AttentiveMobileNetV3`` does.
    """

    accepted_mutable_attrs = {'depth'}

    def __init__(self, *args, init_cfg: Optional[dict] = None) -> None:
        super().__init__(*args, init_cfg=init_cfg)
        # kept out of ``_modules``: a submodule would become one more block of the
        # sequence (the depth mutable is a module of whoever owns the search space)
        object.__setattr__(self, 'mutable_attrs', nn.ModuleDict())

    def _check_mutable_attr(self, name: str, mutable: nn.Module) -> None:
        super()._check_mutable_attr(name, mutable)
        bad = [d for d in mutable.choices
               if not isinstance(d, int) or not 0 < d <= len(self)]
        if bad:
            raise ValueError(f'DynamicSequential has {len(self)} blocks; depth choices '
                             f'must be ints in [1, {len(self)}], got {bad}')

    @property
    def mutable_depth(self) -> Optional[nn.Module]:
        """The mutable of the depth, or None."""
        return self.mutable_attrs['depth'] if 'depth' in self.mutable_attrs else None

    @property
    def pure_depth(self) -> int:
        """The number of blocks built."""
        return len(self)

    @property
    def current_depth(self) -> int:
        """The number of blocks the forward runs now."""
        mutable = self.mutable_depth
        return len(self) if mutable is None else int(mutable.current_choice)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for index in range(self.current_depth):
            x = self[index](x)
        return x

    @classmethod
    def convert_from(cls, module: nn.Sequential) -> 'DynamicSequential':
        return cls(*module)

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return Sequential

    def to_static_op(self) -> nn.Module:
        self.check_if_mutables_fixed()
        static = Sequential(*[self[i] for i in range(self.current_depth)])
        return static.train(self.training)

    def active_named_children(self) -> Iterator[Tuple[str, nn.Module]]:
        """The blocks the forward runs now, by name (what the estimator counts)."""
        return itertools.islice(self.named_children(), self.current_depth)

    def active_parameters(self) -> Dict[str, torch.Tensor]:
        # the blocks hold the weights (and count themselves); the container holds none
        return {}
