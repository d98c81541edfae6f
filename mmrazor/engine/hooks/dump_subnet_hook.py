"""``DumpSubnetHook``: save the subnet a supernet would give, periodically."""
import os
import os.path as osp
from pathlib import Path
from typing import Any, List, Optional, Union

import yaml
from mmengine.dist import master_only
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmrazor.models.algorithms.base import architecture_of
from mmrazor.registry import HOOKS
from mmrazor.structures import convert_fix_subnet, export_fix_subnet

DATA_BATCH = Optional[Union[dict, tuple, list]]


@HOOKS.register_module()
class DumpSubnetHook(Hook):
    """Dump the subnet of ``mutator.sample_choices()`` as a subnet YAML.

    For differentiable supernets (DARTS) that is the subnet the architecture
    parameters prefer; for one-shot ones a random subnet. The model's own choices
    are left as they were. Files are ``subnet_epoch_<n>.yaml`` (or
    ``subnet_iter_<n>.yaml``; ``filename_tmpl`` overrides), loadable by
    ``sub_model``/``load_fix_subnet``.

    Args:
        interval (int): Every ``interval`` epochs (or iterations); -1: never
            (only the last, with ``save_last``). Defaults to -1.
        by_epoch (bool): Count epochs, else iterations. Defaults to True.
        out_dir (str | Path, optional): Root folder; the work dir's last folder
            name is appended. Defaults to None: the work dir itself.
        max_keep_subnets (int): Keep only the newest this many dumps (-1: all).
            Defaults to -1.
        save_last (bool): Dump at the end of training whatever the interval.
            Defaults to True.
        **kwargs: ``filename_tmpl`` (e.g. ``'subnet_{}.yaml'``); MMRazor's
            ``file_client_args`` is accepted and unused (files are written locally).
    """

    priority = 'VERY_LOW'

    def __init__(self,
                 interval: int = -1,
                 by_epoch: bool = True,
                 out_dir: Optional[Union[str, Path]] = None,
                 max_keep_subnets: int = -1,
                 save_last: bool = True,
                 **kwargs: Any) -> None:
        unknown = [key for key in kwargs if key not in ('filename_tmpl', 'file_client_args')]
        if unknown:
            raise TypeError(f'DumpSubnetHook got unknown arguments {unknown}; extra '
                            'arguments: filename_tmpl')
        self.interval = interval
        self.by_epoch = by_epoch
        self.out_dir = None if out_dir is None else str(out_dir)
        self.max_keep_subnets = max_keep_subnets
        self.save_last = save_last
        unit = 'epoch' if by_epoch else 'iter'
        self.filename_tmpl = kwargs.get('filename_tmpl', f'subnet_{unit}_{{}}.yaml')
        self._dumped: List[str] = []

    def before_train(self, runner) -> None:
        """Resolve the output folder."""
        if self.out_dir is None:
            self.out_dir = runner.work_dir
        elif osp.abspath(self.out_dir) != osp.abspath(runner.work_dir):
            self.out_dir = osp.join(self.out_dir,
                                    osp.basename(runner.work_dir.rstrip(osp.sep)))
        runner.logger.info(f'Subnets will be saved to {self.out_dir}')

    def after_train_epoch(self, runner) -> None:
        """Dump every ``interval`` epochs and after the last."""
        if self.by_epoch and (self.every_n_epochs(runner, self.interval) or
                              (self.save_last and self.is_last_train_epoch(runner))):
            self._save_subnet(runner, runner.epoch + 1)

    def after_train_iter(self, runner, batch_idx: int, data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        """Dump every ``interval`` iterations and after the last."""
        if not self.by_epoch and (self.every_n_train_iters(runner, self.interval) or
                                  (self.save_last and self.is_last_train_iter(runner))):
            self._save_subnet(runner, runner.iter + 1)

    @master_only
    def _save_subnet(self, runner, index: int) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        mutator = getattr(model, 'mutator', None)
        if mutator is None:
            raise AttributeError(f'DumpSubnetHook dumps the subnet of a NAS algorithm (with '
                                 f'a mutator); {type(model).__name__} has none')
        previous = mutator.current_choices
        mutator.set_choices(mutator.sample_choices())
        try:
            # keys relative to the architecture, as sub_model(cfg=supernet) reads them
            subnet = convert_fix_subnet(export_fix_subnet(architecture_of(model))[0])
        finally:
            if all(choice is not None for choice in previous.values()):
                mutator.set_choices(previous)
        os.makedirs(self.out_dir, exist_ok=True)
        path = osp.join(self.out_dir, self.filename_tmpl.format(index))
        with open(path, 'w') as file:
            yaml.safe_dump(subnet, file, sort_keys=False)
        runner.logger.info(f'Saved the subnet to {path}')
        if path in self._dumped:
            self._dumped.remove(path)
        self._dumped.append(path)
        if self.max_keep_subnets > 0:
            while len(self._dumped) > self.max_keep_subnets:
                old = self._dumped.pop(0)
                if osp.isfile(old):
                    os.remove(old)

