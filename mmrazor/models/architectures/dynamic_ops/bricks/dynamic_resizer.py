"""``DynamicInputResizer``: an ``InputResizer`` whose output shape is searchable."""
from typing import Dict, List, Optional, Type

import torch
import torch.nn as nn

from mmrazor.models.architectures.ops.input_resizer import InputResizer
from mmrazor.registry import MODELS

from ..mixins.dynamic_mixins import DynamicMixin


@MODELS.register_module()
class DynamicInputResizer(InputResizer, DynamicMixin):
    """Resizes inputs to the shape a mutable value chooses (BigNAS input sizes).

    Register the shape mutable with ``register_mutable_attr('shape', mutable)``;
    its choices are ``[H, W]`` lists. Without one it resizes to ``shape``.
    """

    accepted_mutable_attrs = {'shape'}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mutable_attrs: nn.ModuleDict = nn.ModuleDict()

    def _check_mutable_attr(self, name: str, mutable: nn.Module) -> None:
        super()._check_mutable_attr(name, mutable)
        bad = [s for s in mutable.choices if not (
            isinstance(s, (list, tuple)) and len(s) == 2
            and all(isinstance(v, int) and v > 0 for v in s))]
        if bad:
            raise ValueError(f'DynamicInputResizer: shape choices are [H, W] lists of '
                             f'positive ints, got {bad}')

    @property
    def mutable_shape(self) -> Optional[nn.Module]:
        """The mutable of the shape, or None."""
        return self.mutable_attrs['shape'] if 'shape' in self.mutable_attrs else None

    @property
    def current_shape(self) -> Optional[List[int]]:
        """The shape the forward resizes to now."""
        mutable = self.mutable_shape
        return self.shape if mutable is None else list(mutable.current_choice)

    def forward(self, x: torch.Tensor, shape=None) -> torch.Tensor:
        return super().forward(x, self.current_shape if shape is None else shape)

    @classmethod
    def convert_from(cls, module: InputResizer) -> 'DynamicInputResizer':
        return cls(module.shape, module.interpolation_type, module.align_corners,
                   module.scale_factor)

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return InputResizer

    def to_static_op(self) -> nn.Module:
        self.check_if_mutables_fixed()
        return InputResizer(self.current_shape, self.interpolation_type, self.align_corners,
                            self.scale_factor)

    def active_parameters(self) -> Dict[str, torch.Tensor]:
        return {}
