"""``FlopsParamsReport``: what one counting pass found, per module and in total."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ..units import convert


@dataclass
class FlopsParamsReport:
    """FLOPs (per sample), MACs and parameters of a model and of each of its modules.

    Args:
        batch_size (int): Samples in the counted batch; FLOPs are divided by it.
        flops (Dict[str, float]): FLOPs per sample by module name (``''`` is the
            model). Modules inside a layer counted as a whole are absent.
        macs (Dict[str, float]): The multiply-accumulate part of ``flops``.
        params (Dict[str, int]): Active parameters by module name.
        types (Dict[str, str]): Class name by module name.
        uncounted (Dict[str, List[str]]): Layer types that ran with no counter (counted
            as 0), with the names of their modules.
    """
    batch_size: int
    flops: Dict[str, float] = field(default_factory=dict)
    macs: Dict[str, float] = field(default_factory=dict)
    params: Dict[str, int] = field(default_factory=dict)
    types: Dict[str, str] = field(default_factory=dict)
    uncounted: Dict[str, List[str]] = field(default_factory=dict)

    @property
    def total_flops(self) -> float:
        """FLOPs per sample of the whole model."""
        return self.flops.get('', 0.0)

    @property
    def total_macs(self) -> float:
        """Multiply-accumulates per sample of the whole model."""
        return self.macs.get('', 0.0)

    @property
    def total_params(self) -> int:
        """Active parameters of the whole model."""
        return self.params.get('', 0)

    def rows(self, depth: int = 1) -> List[str]:
        """Module names down to ``depth`` levels below the model, in model order."""
        return [name for name in self.params
                if name and name.count('.') < depth]

    def table(self, depth: int = 1, units: Optional[Dict[str, Optional[str]]] = None) -> str:
        """A text table: one row per module down to ``depth`` levels, then the total."""
        units = units or dict(flops='M', params='M')
        flops_unit, params_unit = units.get('flops', 'M'), units.get('params', 'M')
        total_flops = self.total_flops or 1.0
        header = ('module', 'type', f'{flops_unit or ""}FLOPs', f'{flops_unit or ""}MACs',
                  f'params ({params_unit or "count"})', 'FLOPs %')
        body = []
        for name in self.rows(depth) + ['']:
            flops = self.flops.get(name, 0.0)
            body.append((name or 'total', self.types.get(name, ''),
                         f'{convert(flops, flops_unit):,}',
                         f'{convert(self.macs.get(name, 0.0), flops_unit):,}',
                         f'{convert(self.params.get(name, 0), params_unit):,}',
                         f'{100 * flops / total_flops:.1f}'))
        widths = [max(len(row[i]) for row in [header] + body) for i in range(len(header))]

        def line(row) -> str:
            cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
            cells += [cell.rjust(width) for cell, width in zip(row[2:], widths[2:])]
            return ' | '.join(cells).rstrip()

        rule = '-+-'.join('-' * width for width in widths)
        return '\n'.join([line(header), rule] + [line(row) for row in body[:-1]]
                         + [rule, line(body[-1])])
