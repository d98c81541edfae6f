"""``BaseOP``: the interface of the candidate ops of a searchable block."""
from typing import Any

from mmengine.model import BaseModule


class BaseOP(BaseModule):
    """A candidate op of a searchable block: all candidates of one block map
    ``in_channels`` to ``out_channels`` at one ``stride``, so any of them can be
    chosen. A searchable backbone passes the three through the mutable's
    ``module_kwargs``.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the op. Defaults to 1.
        **kwargs: ``BaseModule`` arguments (``init_cfg``).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name, value in (('in_channels', in_channels), ('out_channels', out_channels),
                            ('stride', stride)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f'{type(self).__name__}: {name} must be a positive int, '
                                 f'got {value!r}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride
