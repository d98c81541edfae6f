"""Units of the resource figures, and how they are printed."""
from typing import Dict, Optional, Union

SCALE_UNITS: Dict[Optional[str], float] = {'G': 1e9, 'M': 1e6, 'K': 1e3, None: 1.0}
TIME_UNITS: Dict[str, float] = {'s': 1.0, 'ms': 1e-3, 'us': 1e-6}
RESOURCE_KEYS = ('flops', 'params', 'latency')


def check_units(units: Optional[Dict[str, Optional[str]]]) -> None:
    """Raise a clear error for a units dict with an unknown key or unit string."""
    if units is None:
        return
    if not isinstance(units, dict):
        raise TypeError(f'units must be a dict like dict(flops="M", params="M", '
                        f'latency="ms") or None, got {type(units).__name__}: {units!r}')
    for key, unit in units.items():
        if key not in RESOURCE_KEYS:
            raise KeyError(f'unknown resource {key!r} in units; valid keys: '
                           f'{", ".join(RESOURCE_KEYS)}')
        valid = TIME_UNITS if key == 'latency' else SCALE_UNITS
        if unit not in valid:
            raise ValueError(f'unknown {key} unit {unit!r}; valid units: '
                             f'{", ".join(repr(u) for u in valid)}')


def convert(value: float, unit: Optional[str], precision: int = 3) -> float:
    """``value`` (a plain count) in ``unit`` ('G', 'M', 'K' or None), rounded."""
    if unit not in SCALE_UNITS:
        raise ValueError(f'unknown unit {unit!r}; valid units: '
                         f'{", ".join(repr(u) for u in SCALE_UNITS)}')
    if unit is None:
        return value
    return round(value / SCALE_UNITS[unit], precision)


def convert_time(seconds: float, unit: str, precision: int = 3) -> float:
    """``seconds`` in ``unit`` ('s', 'ms' or 'us'), rounded."""
    if unit not in TIME_UNITS:
        raise ValueError(f'unknown latency unit {unit!r}; valid units: '
                         f'{", ".join(repr(u) for u in TIME_UNITS)}')
    return round(seconds / TIME_UNITS[unit], precision)


def flops_string(value: Union[int, float], unit: Optional[str]) -> str:
    """MMRazor's string form: ``'4109.5 MFLOPs'``."""
    return f'{value} {unit or ""}FLOPs'


def params_string(value: Union[int, float], unit: Optional[str]) -> str:
    """MMRazor's string form: ``'25.557 M'``."""
    return f'{value} {unit}' if unit else f'{value}'
