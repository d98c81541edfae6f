"""The check both SPOS backbones run on MMRazor's list-of-stages ``arch_setting``."""
from typing import Sequence


def check_stage_list(arch_setting: Sequence, int_fields: Sequence[str]) -> None:
    """Raise ``ValueError`` unless ``arch_setting`` is a non-empty list of stages
    ``[<int_fields> (ints > 0)..., mutable_cfg (dict)]``.

    Args:
        arch_setting (Sequence): The stages.
        int_fields (Sequence[str]): Names of the leading positive-int fields, e.g.
            ``('channels', 'num_blocks')``.
    """
    form = f'[[{", ".join(int_fields)}, mutable_cfg], ...]'
    if not isinstance(arch_setting, (list, tuple)) or not arch_setting:
        raise ValueError(f'arch_setting must be a non-empty list {form}, '
                         f'got {arch_setting!r}')
    count = len(int_fields)
    for index, stage in enumerate(arch_setting):
        valid = (isinstance(stage, (list, tuple)) and len(stage) == count + 1
                 and all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                         for v in stage[:count]) and isinstance(stage[count], dict))
        if not valid:
            fields = ', '.join(f'{name} (int > 0)' for name in int_fields)
            raise ValueError(f'arch_setting[{index}] must be [{fields}, mutable_cfg '
                             f'(dict)] as in {form}, got {stage!r}')
