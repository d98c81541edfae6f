"""``ItePruneValLoop``: validate a pruning algorithm and save its current subnet."""
import json
import os
import os.path as osp
from typing import Dict, List

import torch
from mmengine.model import is_model_wrapper
from mmengine.runner import ValLoop

from mmrazor.registry import LOOPS
from mmrazor.structures import export_fix_subnet

SUBNET_NAME = 'fix_subnet.json'
WEIGHT_NAME = 'fix_subnet_weight.pth'


@LOOPS.register_module()
class ItePruneValLoop(ValLoop):
    """Validation loop of pruning algorithms that also exports the pruned subnet.

    After each validation (and its hooks), ``work_dir`` gets ``fix_subnet.json`` (the
    mutator's template with each unit's choice: ``export_fix_subnet(model, 'mutator')``,
    which ``sub_model(..., mode='mutator')`` loads) and ``fix_subnet_weight.pth``
    (``{'state_dict': ...}`` of the static pruned architecture). Both are exported
    before anything is written, then written to temporary files and renamed, so an
    error never leaves a half-written or mismatched pair.

    Args: as :class:`mmengine.runner.ValLoop` (``runner``, ``dataloader``,
        ``evaluator``, ``fp16``).

    Example:
        >>> val_cfg = dict(type='mmrazor.ItePruneValLoop')
    """

    def run(self) -> Dict[str, float]:
        """Validate as :class:`ValLoop` does, then save the subnet."""
        metrics = super().run()
        self._save_fix_subnet()
        return metrics

    def _save_fix_subnet(self) -> None:
        if self.runner.rank != 0:  # every rank holds the same subnet
            return
        model = self.runner.model.module if is_model_wrapper(self.runner.model) \
            else self.runner.model
        fix_subnet, static_model = export_fix_subnet(
            model, export_subnet_mode='mutator', slice_weight=True)
        state = {'state_dict': static_model.state_dict()}
        work_dir = self.runner.work_dir
        targets = [osp.join(work_dir, SUBNET_NAME), osp.join(work_dir, WEIGHT_NAME)]
        temps: List[str] = [f'{path}.tmp' for path in targets]
        try:
            with open(temps[0], 'w') as file:
                json.dump(fix_subnet, file, indent=4)
            torch.save(state, temps[1])
        except BaseException:
            for temp in temps:
                if osp.exists(temp):
                    os.remove(temp)
            raise
        for temp, target in zip(temps, targets):
            os.replace(temp, target)
        self.runner.logger.info(f'Saved the pruned subnet: {SUBNET_NAME} and '
                                f'{WEIGHT_NAME} in {work_dir}')
