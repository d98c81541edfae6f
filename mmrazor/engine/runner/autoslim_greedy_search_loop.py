"""``AutoSlimGreedySearchLoop``: AutoSlim's greedy channel slimming (Yu & Huang, 2019)."""
import os.path as osp
import pickle
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
import yaml
from mmengine.evaluator import Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner import TestLoop
from torch.utils.data import DataLoader

from mmrazor.registry import LOOPS, TASK_UTILS
from mmrazor.structures import export_fix_subnet

from .utils import CalibrateBNMixin, check_subnet_resources
from .utils.search_state import atomic_write, dump_data_pickle, load_data_pickle

# {search group id: channel bins kept}, bins counted 1..len(candidate_choices)
ChannelBins = Dict[int, int]
SEARCHER_CKPT = 'latest.pkl'
SUBNET_TEMPLATE = 'FLOPS_{:.2f}M.yaml'
STATE_KEYS = ('current_subnet', 'current_flops', 'searched_subnet', 'searched_subnet_flops')
# measure the FLOPs of every subnet, whatever it is
NO_CONSTRAINT = dict(flops=(0., float('inf')))


@LOOPS.register_module()
class AutoSlimGreedySearchLoop(TestLoop, CalibrateBNMixin):
    """Greedy slimming of a trained AutoSlim supernet, one channel bin at a time.

    From the widest subnet, every step tries narrowing each search group by one
    candidate width, keeps the narrowing whose subnet scores best on ``dataloader``
    and repeats until the FLOPs are at most the next target (targets are taken
    from the largest down, each search continuing from the last). For every
    target the subnet found is saved as ``FLOPS_<flops>M.yaml`` in the work dir
    (MMRazor's names; a ``'mutator'``-mode subnet: the mutator's config with each
    unit's ``choice``, loaded by ``sub_model(..., mode='mutator')``). After every
    step the search state is written atomically to ``latest.pkl`` (MMRazor's keys:
    ``current_subnet``, ``current_flops``, ``searched_subnet``,
    ``searched_subnet_flops``), from which ``resume_from`` continues to the same
    result.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Scores the candidate subnets.
        evaluator (Evaluator | dict | list): Computes their metrics.
        target_flops (tuple[float]): FLOPs budgets, in the estimator's unit
            (MFLOPs by default).
        estimator_cfg (dict, optional): The resource estimator. Defaults to
            None (``ResourceEstimator()``).
        score_key (str): The metric that scores. Defaults to 'accuracy/top1'.
        resume_from (str, optional): A ``latest.pkl`` to continue from.
            Defaults to None.
        calibrate_sample_num (int): Training samples (of the runner's
            ``train_dataloader``) for BN recalibration before each score; <= 0
            scores with the batch norms as they are (MMRazor's search config
            uses ``norm_training`` instead). Defaults to -1.

    Example:
        >>> test_cfg = dict(_delete_=True, type='mmrazor.AutoSlimGreedySearchLoop',
        ...                 dataloader=test_dataloader, evaluator=test_evaluator,
        ...                 target_flops=(500., 300., 200.))
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 target_flops: Sequence[float],
                 estimator_cfg: Optional[Dict[str, Any]] = None,
                 score_key: str = 'accuracy/top1',
                 resume_from: Optional[str] = None,
                 calibrate_sample_num: int = -1) -> None:
        # bad arguments fail before the dataloader is built or anything is measured
        if isinstance(target_flops, (int, float)) or not target_flops or \
                not all(isinstance(t, (int, float)) and t > 0 for t in target_flops):
            raise ValueError(f'target_flops must be a non-empty tuple of positive FLOPs '
                             f'budgets, e.g. (500., 300., 200.); got {target_flops!r}')
        if resume_from is not None and not osp.isfile(resume_from):
            raise FileNotFoundError(f'resume_from: search checkpoint {resume_from} does not '
                                    'exist')
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'mutator') or not hasattr(model.mutator, 'search_groups'):
            raise AttributeError(f'AutoSlimGreedySearchLoop slims an algorithm with a channel '
                                 f'mutator (e.g. AutoSlim); {type(model).__name__} has none')
        super().__init__(runner, dataloader, evaluator)
        self.model = model
        self.target_flops = sorted((float(t) for t in target_flops), reverse=True)
        self.score_key = score_key
        self.resume_from = resume_from
        self.calibrate_sample_num = calibrate_sample_num
        estimator_cfg = dict(estimator_cfg or {})
        estimator_cfg.setdefault('type', 'mmrazor.ResourceEstimator')
        self.estimator = TASK_UTILS.build(estimator_cfg)

        # the widths a group may take, narrowest first (units of a group share them)
        self.candidate_choices: Dict[int, List[Any]] = {
            group_id: list(units[0].candidate_choices)
            for group_id, units in model.mutator.search_groups.items()}
        self.max_subnet: ChannelBins = {
            group_id: len(choices) for group_id, choices in self.candidate_choices.items()}
        self.current_subnet: ChannelBins = dict(self.max_subnet)
        self.current_flops = self._flops(self.current_subnet)
        self.searched_subnet: List[ChannelBins] = []
        self.searched_subnet_flops: List[float] = []

    def run(self) -> None:
        """Search a subnet for every target, then save them."""
        self.runner.call_hook('before_test')
        if self.resume_from:
            self._resume()
        # a resumed search has found the first len(searched_subnet) targets already
        for target in self.target_flops[len(self.searched_subnet):]:
            while self.current_flops > target:
                self._slim_one_bin()
                self._save_searcher_ckpt()
            self.searched_subnet.append(dict(self.current_subnet))
            self.searched_subnet_flops.append(self.current_flops)
            self._save_searcher_ckpt()
            self.runner.logger.info(f'Found a subnet of {self.current_flops} MFLOPs <= '
                                    f'{target}')
        self._save_searched_subnet()
        self.runner.call_hook('after_test')

    def _slim_one_bin(self) -> None:
        """Narrow the group whose narrowing scores best (the first such group, in
        group order, on ties) by one bin."""
        best_score, best_subnet = -float('inf'), None
        for group_id in sorted(self.current_subnet):
            if self.current_subnet[group_id] == 1:  # already at its narrowest
                continue
            pruned = dict(self.current_subnet)
            pruned[group_id] -= 1
            self.model.mutator.set_choices(self._channel_bins2choices(pruned))
            score = self._score()
            self.runner.logger.info(f'Slimming group {group_id}: {self.score_key} {score}')
            if score > best_score:
                best_score, best_subnet = score, pruned
        if best_subnet is None:
            raise RuntimeError(f'Every channel unit is at its narrowest and the subnet still '
                               f'has {self.current_flops} MFLOPs, more than the target '
                               f'{self.target_flops[len(self.searched_subnet)]}: the targets '
                               'are below the smallest subnet')
        self.current_subnet = best_subnet
        self.current_flops = self._flops(best_subnet)
        self.runner.logger.info(f'Greedily slimmed: {self.score_key} {best_score}, '
                                f'{self.current_flops} MFLOPs')

    def _channel_bins2choices(self, subnet: ChannelBins) -> Dict[str, Any]:
        """``{unit name: choice}`` of a subnet given as channel bins per group."""
        choices = {}
        for group_id, bins in subnet.items():
            choice = self.candidate_choices[group_id][bins - 1]
            choices.update({unit.name: choice
                            for unit in self.model.mutator.search_groups[group_id]})
        return choices

    def _flops(self, subnet: ChannelBins) -> float:
        _, results = check_subnet_resources(self.model, self._channel_bins2choices(subnet),
                                            self.estimator, NO_CONSTRAINT)
        return float(results['flops'])

    @torch.no_grad()
    def _score(self) -> float:
        """The ``score_key`` metric of the subnet now chosen."""
        if self.calibrate_sample_num > 0:
            if self.runner.train_dataloader is None:
                raise ValueError('calibrate_sample_num > 0 recalibrates batch norms on the '
                                 "runner's train_dataloader; the config has none")
            self.calibrate_bn_statistics(self.runner.train_dataloader,
                                         self.calibrate_sample_num)
        self.runner.model.eval()
        for data_batch in self.dataloader:
            outputs = self.runner.model.val_step(data_batch)
            self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        if self.score_key not in metrics:
            raise KeyError(f'score_key {self.score_key!r} is not among the metrics '
                           f'{sorted(metrics)}')
        return float(metrics[self.score_key])

    # ---- files ----------------------------------------------------------------------

    def _save_searcher_ckpt(self) -> None:
        """Write the search state to ``latest.pkl`` atomically (rank 0)."""
        if self.runner.rank != 0:
            return
        dump_data_pickle({key: getattr(self, key) for key in STATE_KEYS},
                         osp.join(self.runner.work_dir, SEARCHER_CKPT))

    def _resume(self) -> None:
        """Continue from ``resume_from``."""
        try:
            state = load_data_pickle(self.resume_from)
        except (pickle.UnpicklingError, EOFError) as error:
            raise ValueError(f'resume_from {self.resume_from} is not an AutoSlim search '
                             f'checkpoint: {error}') from error
        if not isinstance(state, dict) or not set(STATE_KEYS) <= set(state):
            raise ValueError(f'resume_from {self.resume_from} is not an AutoSlim search '
                             f'checkpoint (a dict with keys {list(STATE_KEYS)})')
        if set(state['current_subnet']) != set(self.max_subnet):
            raise ValueError(f'resume_from {self.resume_from} was searched on other search '
                             f'groups ({sorted(state["current_subnet"])}) than this '
                             f'model has ({sorted(self.max_subnet)})')
        for key in STATE_KEYS:
            setattr(self, key, state[key])
        self.runner.logger.info(f'Resumed the search from {self.resume_from}: '
                                f'{len(self.searched_subnet)} targets done, now '
                                f'{self.current_flops} MFLOPs')

    def _save_searched_subnet(self) -> None:
        """Save ``FLOPS_<flops>M.yaml`` for every target (rank 0)."""
        if self.runner.rank != 0:
            return
        for subnet, flops in zip(self.searched_subnet, self.searched_subnet_flops):
            self.model.mutator.set_choices(self._channel_bins2choices(subnet))
            fix_subnet, _ = export_fix_subnet(self.model, export_subnet_mode='mutator')
            name = SUBNET_TEMPLATE.format(flops)
            atomic_write(osp.join(self.runner.work_dir, name),
                         yaml.safe_dump(fix_subnet, sort_keys=False).encode())
            self.runner.logger.info(f'{name} is saved in {self.runner.work_dir}')
