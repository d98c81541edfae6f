"""QSchemeHandler: a config's quantization scheme as the arguments of an observer."""
from typing import Any, Dict

import torch

_QDTYPES = {'quint8': torch.quint8, 'qint8': torch.qint8}
# torch's quint8/qint8 hold at most 8 bits; 1 bit leaves a signed symmetric range
# with the single value 0.
_BITS = range(2, 9)
# Keys the handler computes: an extra kwarg may not silently contradict them.
_COMPUTED_KEYS = ('dtype', 'quant_min', 'quant_max', 'qscheme', 'reduce_range', 'ch_axis')


class QSchemeHandler:
    """Turn a user-friendly quantization scheme into observer arguments.

    Args:
        qdtype (str): ``'quint8'`` (unsigned, range ``[0, 2^bit - 1]``) or ``'qint8'``
            (signed). It must be a dtype the deploy backend runs. Defaults to
            ``'quint8'``.
        bit (int): Bit width, 2 to 8. Defaults to 8.
        is_symmetry (bool): Symmetric (zero point fixed at the middle of the range)
            rather than affine quantization. Defaults to True.
        is_per_channel (bool): One scale per output channel (``ch_axis=0``) rather
            than one per tensor. Defaults to False.
        is_symmetric_range (bool): For ``'qint8'``, use ``[-(2^(bit-1) - 1),
            2^(bit-1) - 1]`` (e.g. [-127, 127]) instead of ``[-2^(bit-1), 2^(bit-1) - 1]``.
            Like MMRazor 1.x, ``'quint8'`` ignores it. Defaults to False.
        **kwargs: Extra observer arguments passed through, e.g.
            ``averaging_constant=0.1``.

    Example:
        >>> QSchemeHandler(qdtype='qint8', is_symmetric_range=True).to_observer_params()
        {'dtype': torch.qint8, 'quant_min': -127, 'quant_max': 127,
         'qscheme': torch.per_tensor_symmetric, 'reduce_range': False}
    """

    def __init__(self,
                 qdtype: str = 'quint8',
                 bit: int = 8,
                 is_symmetry: bool = True,
                 is_per_channel: bool = False,
                 is_symmetric_range: bool = False,
                 **kwargs: Any) -> None:
        if qdtype not in _QDTYPES:
            raise ValueError(f'qdtype must be one of {list(_QDTYPES)}, got {qdtype!r}')
        if isinstance(bit, bool) or not isinstance(bit, int) or bit not in _BITS:
            raise ValueError(f'bit must be an int from {_BITS.start} to {_BITS.stop - 1} '
                             f'(the range of {qdtype}), got {bit!r}')
        clashes = [key for key in kwargs if key in _COMPUTED_KEYS]
        if clashes:
            raise ValueError(f'QSchemeHandler computes {clashes} from qdtype, bit, '
                             'is_symmetry and is_per_channel; remove them from the qscheme '
                             f'(extra observer arguments allowed: anything but {_COMPUTED_KEYS})')
        self.qdtype = qdtype
        self.bit = bit
        self.is_symmetry = is_symmetry
        self.is_per_channel = is_per_channel
        self.is_symmetric_range = is_symmetric_range
        self.kwargs = kwargs
        if is_per_channel:
            self.torch_qscheme = (torch.per_channel_symmetric
                                  if is_symmetry else torch.per_channel_affine)
        else:
            self.torch_qscheme = (torch.per_tensor_symmetric
                                  if is_symmetry else torch.per_tensor_affine)

    @property
    def dtype(self) -> torch.dtype:
        """torch.dtype: ``torch.quint8`` or ``torch.qint8``."""
        return _QDTYPES[self.qdtype]

    def quant_range(self) -> tuple:
        """Return ``(quant_min, quant_max)`` of the integer range."""
        if self.qdtype == 'quint8':
            return 0, 2**self.bit - 1
        quant_max = 2**(self.bit - 1) - 1
        return (-quant_max if self.is_symmetric_range else -quant_max - 1), quant_max

    def to_observer_params(self) -> Dict[str, Any]:
        """Return the keyword arguments of an observer (and of a fake-quant).

        Returns:
            dict: ``dtype``, ``quant_min``, ``quant_max``, ``qscheme``,
            ``reduce_range=False``, ``ch_axis=0`` when per-channel, and the extra
            kwargs.
        """
        quant_min, quant_max = self.quant_range()
        params = dict(self.kwargs, dtype=self.dtype, quant_min=quant_min,
                      quant_max=quant_max, qscheme=self.torch_qscheme, reduce_range=False)
        if self.is_per_channel:
            params['ch_axis'] = 0
        return params

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(qdtype={self.qdtype!r}, bit={self.bit}, '
                f'is_symmetry={self.is_symmetry}, is_per_channel={self.is_per_channel}, '
                f'is_symmetric_range={self.is_symmetric_range}, kwargs={self.kwargs})')
