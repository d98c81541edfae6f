"""``Candidates``: the subnets an evolution search keeps, with their scores and costs."""
import ast
import json
from collections import UserList
from typing import Any, Dict, Iterable, List, Optional, Union

INDICATORS = ('score', 'flops', 'params', 'latency')
Subnet = Dict[str, Any]
Item = Dict[str, Dict[str, float]]


def subnet_key(subnet: Subnet) -> str:
    """A subnet as the string that keys it: JSON, group order kept."""
    return json.dumps(subnet)


def parse_subnet_key(key: str) -> Subnet:
    """The subnet of a key: JSON, or the Python-literal form MMRazor wrote (read
    with ``ast.literal_eval``, which evaluates no code, unlike MMRazor's ``eval``)."""
    try:
        return json.loads(key)
    except json.JSONDecodeError:
        pass
    try:
        subnet = ast.literal_eval(key)
    except (ValueError, SyntaxError):
        subnet = None
    if not isinstance(subnet, dict):
        raise ValueError(f'{key[:80]!r} is not a subnet key (a JSON or Python-literal dict '
                         '{search group: choice})')
    return subnet


class Candidates(UserList):
    """A list of ``{subnet key: {'score', 'flops', 'params', 'latency'}}`` items.

    Takes subnets (``{search group: choice}``) or items, one or a list of them;
    indicators not yet measured are -1 for a new subnet, 0 when an item omits them.

    Args:
        initdata (dict | list, optional): Subnets or items. Defaults to None.

    Examples:
        >>> candidates = Candidates([{'module_0': 'shuffle_3x3'}])
        >>> candidates.set_resource(0, 49.9, 'flops')
        >>> candidates.set_score(0, 71.3)
        >>> candidates.subnets, candidates.scores, candidates.resources('flops')
        ([{'module_0': 'shuffle_3x3'}], [71.3], [49.9])
    """

    _indicators = INDICATORS

    def __init__(self, initdata: Optional[Union[Dict, List[Dict], 'Candidates']] = None
                 ) -> None:
        super().__init__()
        if initdata is not None:
            self.extend(initdata)

    @staticmethod
    def _format_item(item: Dict) -> Item:
        if not isinstance(item, dict) or not item:
            raise TypeError(f'a candidate is a subnet {{search group: choice}} or an item '
                            f'{{subnet key: {{indicator: value}}}}, got {item!r}')
        values = list(item.values())
        if len(item) == 1 and isinstance(values[0], dict) and isinstance(
                next(iter(item)), str) and set(values[0]) <= set(INDICATORS):
            key = next(iter(item))
            parse_subnet_key(key)  # an item's key must be a subnet
            return {key: {name: values[0].get(name, 0.) for name in INDICATORS}}
        return {subnet_key(item): dict.fromkeys(INDICATORS, -1)}

    def _format(self, data: Union[Dict, Iterable[Dict]]) -> List[Item]:
        if isinstance(data, dict):
            return [self._format_item(data)]
        return [self._format_item(item) for item in data]

    def append(self, item: Dict) -> None:
        """Add one subnet or item."""
        self.data.extend(self._format(item))

    def insert(self, i: int, item: Dict) -> None:
        """Insert one subnet or item at ``i``."""
        for offset, formatted in enumerate(self._format(item)):
            self.data.insert(i + offset, formatted)

    def extend(self, other: Union[Dict, Iterable[Dict]]) -> None:
        """Add subnets or items (a list, another ``Candidates`` or one of them)."""
        self.data.extend(self._format(other))

    @property
    def subnets(self) -> List[Subnet]:
        """The subnets, in order."""
        return [parse_subnet_key(next(iter(item))) for item in self.data]

    @property
    def scores(self) -> List[float]:
        """The scores, in order."""
        return [self._value(item, 'score') for item in self.data]

    def resources(self, key_indicator: str = 'flops') -> List[float]:
        """One resource (``'flops'``, ``'params'`` or ``'latency'``), in order."""
        self._check_indicator(key_indicator, INDICATORS[1:])
        return [self._value(item, key_indicator) for item in self.data]

    @staticmethod
    def _value(item: Item, indicator: str) -> float:
        return next(iter(item.values())).get(indicator, 0.)

    @staticmethod
    def _check_indicator(indicator: str, valid: Iterable[str] = INDICATORS) -> None:
        if indicator not in valid:
            raise KeyError(f'unknown indicator {indicator!r}; valid: {", ".join(valid)}')

    def set_score(self, i: int, score: float) -> None:
        """Set the score of candidate ``i``."""
        self.set_resource(i, score, 'score')

    def set_resource(self, i: int, resources: float, key_indicator: str = 'flops') -> None:
        """Set one indicator of candidate ``i``."""
        self._check_indicator(key_indicator)
        next(iter(self.data[i].values()))[key_indicator] = resources

    def update_resources(self, resources: List[Dict[str, float]], start: int = 0) -> None:
        """Set the indicators of candidates ``start``, ``start + 1``, ... from dicts
        (keys that are no indicator, such as ``latency_stats``, are skipped)."""
        if start + len(resources) > len(self.data):
            raise IndexError(f'{len(resources)} resource dicts from index {start} do not '
                             f'fit {len(self.data)} candidates')
        for item, figures in zip(self.data[start:], resources):
            values = next(iter(item.values()))
            values.update({k: v for k, v in figures.items() if k in INDICATORS})

    def sort_by(self, key_indicator: str = 'score', reverse: bool = True) -> None:
        """Sort by one indicator (stable; descending by default)."""
        self._check_indicator(key_indicator)
        self.data.sort(key=lambda item: self._value(item, key_indicator), reverse=reverse)
