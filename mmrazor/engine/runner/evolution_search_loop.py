"""``EvolutionSearchLoop``: evolutionary search of a supernet's subnets (SPOS)."""
import io
import json
import os
import os.path as osp
import pickle
import random
import time
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
import yaml
from mmengine.dist import broadcast_object_list
from mmengine.evaluator import Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop
from mmengine.utils import is_list_of
from torch.utils.data import DataLoader

from mmrazor.models.task_modules.estimators.cost_table import SubnetCostTable
from mmrazor.registry import LOOPS, TASK_UTILS
from mmrazor.structures import Candidates, convert_fix_subnet, export_fix_subnet
from mmrazor.structures.subnet.candidate import subnet_key

from .utils import (
    CalibrateBNMixin,
    check_constraints_range,
    check_subnet_resources,
    crossover,
    within_constraints,
)
from .utils.search_state import (
    atomic_write,
    dump_data_pickle,
    get_rng_states,
    load_data_pickle,
    set_rng_states,
)

Subnet = Dict[str, Any]
CKPT_TEMPLATE = 'search_epoch_{}.pkl'
BEST_SUBNET = 'best_fix_subnet.yaml'
TABLE_KEYS = ('flops', 'params')  # what cost tables measure


def _probability(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f'{name} must be a probability in [0, 1], got {value!r}')
    return float(value)


def load_candidates(path: str) -> Candidates:
    """Candidates from a YAML/JSON list of subnets or items, or a pickle of
    ``Candidates`` (read as data only)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'init_candidates file {path} does not exist')
    if path.endswith('.pkl'):
        data = load_data_pickle(path)
    else:
        with open(path) as file:
            data = json.load(file) if path.endswith('.json') else yaml.safe_load(file)
    if isinstance(data, dict) and 'candidates' in data:  # a search checkpoint
        data = data['candidates']
    if not isinstance(data, (list, Candidates)):
        raise TypeError(f'{path} must hold a list of subnets or Candidates, got '
                        f'{type(data).__name__}')
    return Candidates(data)


@LOOPS.register_module()
class EvolutionSearchLoop(EpochBasedTrainLoop, CalibrateBNMixin):
    """Evolutionary search over the subnets of a trained supernet.

    Each epoch fills the pool to ``num_candidates`` with random subnets that meet
    ``constraints_range``, scores them on ``dataloader`` (after BN recalibration
    when ``calibrate_sample_num > 0``), keeps the ``top_k`` best distinct subnets so
    far and breeds the next pool of new subnets from them by mutation and crossover.
    After every epoch ``search_epoch_<n>.pkl`` is written atomically: the pools, the
    epoch and the random states, so a search resumed from it (``resume_from``) ends
    exactly as the uninterrupted one. At the end the best subnet is saved as
    ``best_fix_subnet.yaml`` (keys are the architecture's module names, as in
    ``SPOS_SUBNET.yaml``) and its static weights as ``subnet_<time>.pth`` (keys
    prefixed ``architecture.``, as the subnet configs' ``init_cfg`` expects).

    FLOPs and params constraints of a single-path space are checked with
    :class:`SubnetCostTable` (built once; no forward per candidate); other spaces
    and latency constraints count the exported static subnet.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): Scores the candidates.
        evaluator (Evaluator | dict | list): Computes their metrics.
        max_epochs (int): Search epochs. Defaults to 20.
        max_keep_ckpts (int): Search checkpoints kept (-1: all). Defaults to 3.
        resume_from (str, optional): A ``search_epoch_<n>.pkl`` to resume from.
            Defaults to None.
        num_candidates (int): Pool size. Defaults to 50.
        top_k (int): Best candidates kept. Defaults to 10.
        num_mutation (int): Candidates bred by mutation. Defaults to 25.
        num_crossover (int): Candidates bred by crossover. Defaults to 25.
        mutate_prob (float): Chance of each group's choice being redrawn.
            Defaults to 0.1.
        crossover_prob (float): Chance of each group's choice coming from the
            second parent. Defaults to 0.5.
        calibrate_sample_num (int): Training samples for BN recalibration before
            each score (<= 0: none). Defaults to -1.
        constraints_range (dict): ``{'flops' | 'params' | 'latency': (low, high)
            or high}`` in the estimator's units (MFLOPs, M params, ms). Defaults
            to dict(flops=(0., 330.)).
        estimator_cfg (dict, optional): The resource estimator. Defaults to None
            (``ResourceEstimator()``).
        predictor_cfg (dict, optional): A metric predictor (TASK_UTILS) that
            scores candidates instead of evaluating them, after it is fitted on
            ``train_samples`` evaluated ones. Defaults to None.
        score_key (str): The metric that scores. Defaults to 'accuracy/top1'.
        init_candidates (str, optional): A file of subnets that starts the pool.
            Defaults to None.

    Example:
        >>> train_cfg = dict(_delete_=True, type='mmrazor.EvolutionSearchLoop',
        ...                  dataloader=val_dataloader, evaluator=val_evaluator,
        ...                  max_epochs=20, constraints_range=dict(flops=(0, 330)))
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 max_epochs: int = 20,
                 max_keep_ckpts: int = 3,
                 resume_from: Optional[str] = None,
                 num_candidates: int = 50,
                 top_k: int = 10,
                 num_mutation: int = 25,
                 num_crossover: int = 25,
                 mutate_prob: float = 0.1,
                 crossover_prob: float = 0.5,
                 calibrate_sample_num: int = -1,
                 constraints_range: Dict[str, Any] = dict(flops=(0., 330.)),  # noqa: B006
                 estimator_cfg: Optional[Dict] = None,
                 predictor_cfg: Optional[Dict] = None,
                 score_key: str = 'accuracy/top1',
                 init_candidates: Optional[str] = None) -> None:
        # bad arguments fail before the dataloader is built or anything is written
        self.constraints_range = check_constraints_range(constraints_range)
        if not 0 < top_k <= num_candidates:
            raise ValueError(f'top_k must be in [1, num_candidates={num_candidates}], got '
                             f'{top_k}')
        if num_mutation < 0 or num_crossover < 0 or \
                num_mutation + num_crossover > num_candidates:
            raise ValueError(f'num_mutation ({num_mutation}) + num_crossover '
                             f'({num_crossover}) must be at most num_candidates '
                             f'({num_candidates}), each >= 0')
        self.mutate_prob = _probability(mutate_prob, 'mutate_prob')
        self.crossover_prob = _probability(crossover_prob, 'crossover_prob')
        if resume_from is not None and not osp.isfile(resume_from):
            raise FileNotFoundError(f'resume_from: search checkpoint {resume_from} does not '
                                    'exist')
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'mutator') or not hasattr(model, 'architecture'):
            raise AttributeError(f'EvolutionSearchLoop searches a NAS algorithm (with a '
                                 f'mutator and an architecture, e.g. SPOS), got '
                                 f'{type(model).__name__}')
        super().__init__(runner, dataloader, max_epochs)
        if isinstance(evaluator, dict) or is_list_of(evaluator, dict):
            self.evaluator = runner.build_evaluator(evaluator)
        else:
            self.evaluator = evaluator
        if hasattr(self.dataloader.dataset, 'metainfo'):
            self.evaluator.dataset_meta = self.dataloader.dataset.metainfo
        self.model = model
        self.num_candidates = num_candidates
        self.top_k = top_k
        self.num_mutation = num_mutation
        self.num_crossover = num_crossover
        self.calibrate_sample_num = calibrate_sample_num
        self.score_key = score_key
        self.max_keep_ckpts = max_keep_ckpts
        self.resume_from = resume_from
        self.fp16 = False
        self.candidates = Candidates() if init_candidates is None else \
            load_candidates(init_candidates)
        self.top_k_candidates = Candidates()
        estimator_cfg = dict(estimator_cfg or {})
        estimator_cfg.setdefault('type', 'mmrazor.ResourceEstimator')
        self.estimator = TASK_UTILS.build(estimator_cfg)
        self._cost_table: Optional[SubnetCostTable] = None
        self._table_tried = False
        self.use_predictor = False
        self.predictor_cfg = predictor_cfg
        if predictor_cfg is not None:
            predictor_cfg = dict(predictor_cfg, score_key=score_key,
                                 search_groups=model.mutator.search_groups)
            self.predictor = TASK_UTILS.build(predictor_cfg)

    # ---- the search ---------------------------------------------------------------

    def run(self) -> torch.nn.Module:
        """Search, save the best subnet and return the model."""
        self.runner.call_hook('before_train')
        if self.predictor_cfg is not None:
            self._init_predictor()
        if self.resume_from:
            self._resume()
        while self._epoch < self._max_epochs:
            self.run_epoch()
            self._save_searcher_ckpt()
        self._save_best_fix_subnet()
        self.runner.call_hook('after_train')
        return self.runner.model

    def run_epoch(self) -> None:
        """Fill and score the pool, update the top k, breed the next pool."""
        self.sample_candidates()
        self.update_candidates_scores()
        self.runner.logger.info(f'top k scores before update: {self.top_k_candidates.scores}')
        self.candidates.extend(self.top_k_candidates)
        self.candidates.sort_by(key_indicator='score', reverse=True)
        # one entry per subnet: copies (bred twice, or kept from the last top k) would
        # crowd out the runners-up the next generation breeds from
        seen, best = set(), []
        for item in self.candidates.data:
            if next(iter(item)) not in seen:
                seen.add(next(iter(item)))
                best.append(item)
        self.top_k_candidates = Candidates(best[:self.top_k])
        self.runner.logger.info(f'top k scores after update: {self.top_k_candidates.scores}')
        bred = self.gen_mutation_candidates()
        bred.extend(self.gen_crossover_candidates())
        self.candidates = bred
        self._epoch += 1

    def sample_candidates(self) -> None:
        """Add random subnets meeting the constraints until the pool is full (rank 0
        draws; every rank gets its pool)."""
        if self.runner.rank == 0:
            while len(self.candidates) < self.num_candidates:
                candidate = self.model.mutator.sample_choices()
                passed, resources = self._check_constraints(candidate)
                if passed:
                    self.candidates.append(candidate)
                    self.candidates.update_resources([resources],
                                                     start=len(self.candidates) - 1)
        data = [self.candidates.data]
        broadcast_object_list(data)
        self.candidates = Candidates(data[0])

    def update_candidates_scores(self) -> None:
        """Score every candidate of the pool."""
        for index, candidate in enumerate(self.candidates.subnets):
            self.model.mutator.set_choices(candidate)
            metrics = self._val_candidate(use_predictor=self.use_predictor)
            if self.score_key not in metrics:
                raise KeyError(f'score_key {self.score_key!r} is not among the metrics '
                               f'{sorted(metrics)}')
            self.candidates.set_score(index, round(float(metrics[self.score_key]), 2))
            self.runner.logger.info(
                f'Epoch:[{self._epoch}/{self._max_epochs}] '
                f'Candidate:[{index + 1}/{len(self.candidates)}] '
                f'Flops: {self.candidates.resources("flops")[index]} '
                f'Params: {self.candidates.resources("params")[index]} '
                f'Latency: {self.candidates.resources("latency")[index]} '
                f'Score: {self.candidates.scores[index]}')

    def _breed(self, number: int, make_one) -> Candidates:
        """Up to ``number`` new subnets (none in the top k, no two alike) from
        ``make_one`` that meet the constraints, in at most ``10 * number`` tries."""
        bred, resources = Candidates(), []
        # a subnet already in the top k or bred before would only be scored again
        seen = {subnet_key(s) for s in self.top_k_candidates.subnets}
        for _ in range(number * 10):
            if len(bred) >= number:
                break
            candidate = make_one()
            if subnet_key(candidate) in seen:
                continue
            passed, result = self._check_constraints(candidate)
            if passed:
                seen.add(subnet_key(candidate))
                bred.append(candidate)
                resources.append(result)
        bred.update_resources(resources)
        return bred

    def gen_mutation_candidates(self) -> Candidates:
        """``num_mutation`` mutated top-k subnets."""
        return self._breed(self.num_mutation, self._mutation)

    def gen_crossover_candidates(self) -> Candidates:
        """``num_crossover`` crossovers of two top-k subnets."""
        return self._breed(self.num_crossover, self._crossover)

    def _mutation(self) -> Subnet:
        parent = random.choice(self.top_k_candidates.subnets)
        return crossover(parent, self.model.mutator.sample_choices(), prob=self.mutate_prob)

    def _crossover(self) -> Subnet:
        parent1 = random.choice(self.top_k_candidates.subnets)
        parent2 = random.choice(self.top_k_candidates.subnets)
        return crossover(parent1, parent2, prob=self.crossover_prob)

    # ---- scoring and resources ------------------------------------------------------

    @torch.no_grad()
    def _val_candidate(self, use_predictor: bool = False) -> Dict[str, Any]:
        """Metrics of the subnet now chosen: predicted, or evaluated after BN
        recalibration."""
        if use_predictor:
            return self.predictor.predict(self.model)
        if self.calibrate_sample_num > 0:
            self.calibrate_bn_statistics(self.runner.train_dataloader,
                                         self.calibrate_sample_num)
        self.runner.model.eval()
        for data_batch in self.dataloader:
            outputs = self.runner.model.val_step(data_batch)
            self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        return self.evaluator.evaluate(len(self.dataloader.dataset))

    @property
    def cost_table(self) -> Optional[SubnetCostTable]:
        """The cost tables when the constraints and the space allow them."""
        if not self._table_tried:
            self._table_tried = True
            if set(self.constraints_range) <= set(TABLE_KEYS):
                self._cost_table = SubnetCostTable.try_build(self.model, self.estimator)
            how = 'per-op cost tables' if self._cost_table else 'counting each subnet'
            self.runner.logger.info(f'Resource constraints are checked by {how}')
        return self._cost_table

    def _check_constraints(self, random_subnet: Subnet) -> Tuple[bool, Dict[str, Any]]:
        """Whether ``random_subnet`` meets the constraints, and its resources."""
        if not self.constraints_range:
            return True, {}
        if self.cost_table is not None:
            results = self.cost_table.estimate(random_subnet)
            return within_constraints(results, self.constraints_range), results
        return check_subnet_resources(self.model, random_subnet, self.estimator,
                                      self.constraints_range)

    # ---- files ----------------------------------------------------------------------

    def _ckpt_path(self, epoch: int) -> str:
        return osp.join(self.runner.work_dir, CKPT_TEMPLATE.format(epoch))

    def _save_searcher_ckpt(self) -> None:
        """Write ``search_epoch_<epoch>.pkl`` atomically and drop old ones."""
        if self.runner.rank != 0:
            return
        state = dict(_epoch=self._epoch, candidates=list(self.candidates.data),
                     top_k_candidates=list(self.top_k_candidates.data),
                     rng_states=get_rng_states())
        dump_data_pickle(state, self._ckpt_path(self._epoch))
        self.runner.logger.info(f'Epoch:[{self._epoch}/{self._max_epochs}], top1_score: '
                                f'{self.top_k_candidates.scores[0]}')
        if self.max_keep_ckpts > 0:
            for epoch in range(1, self._epoch - self.max_keep_ckpts + 1):
                if osp.isfile(self._ckpt_path(epoch)):
                    os.remove(self._ckpt_path(epoch))

    def _resume(self) -> None:
        """Continue from ``resume_from``: pools, epoch and random states."""
        try:
            state = load_data_pickle(self.resume_from)
        except (pickle.UnpicklingError, EOFError) as error:
            raise ValueError(f'resume_from {self.resume_from} is not a search checkpoint: '
                             f'{error}') from error
        if not isinstance(state, dict) or not {'_epoch', 'candidates'} <= set(state):
            raise ValueError(f'resume_from {self.resume_from} is not a search checkpoint '
                             "(a dict with '_epoch' and 'candidates')")
        self._epoch = int(state['_epoch'])
        self.candidates = Candidates(state['candidates'])
        self.top_k_candidates = Candidates(state.get('top_k_candidates', []))
        if 'rng_states' in state:  # MMRazor's checkpoints have none
            set_rng_states(state['rng_states'])
        self.runner.logger.info(f'Resumed the search from epoch {self._epoch} '
                                f'({self.resume_from})')

    def _save_best_fix_subnet(self) -> None:
        """Save the best subnet's YAML and its static weights."""
        if self.runner.rank != 0:
            return
        self.model.mutator.set_choices(self.top_k_candidates.subnets[0])
        # keys relative to the architecture (``backbone.layers.0.0``), as the subnet
        # configs' ``sub_model(cfg=supernet, fix_subnet=...)`` looks them up
        fix_subnet = convert_fix_subnet(export_fix_subnet(self.model.architecture)[0])
        static_model = export_fix_subnet(self.model, slice_weight=True)[1]
        work_dir = self.runner.work_dir
        model_name = f'subnet_{time.strftime("%Y%m%d_%H%M", time.localtime())}.pth'
        state_dict = {f'architecture.{k}': v for k, v in static_model.state_dict().items()}
        buffer = _torch_bytes({'state_dict': state_dict, 'meta': {}})
        atomic_write(osp.join(work_dir, model_name), buffer)
        atomic_write(osp.join(work_dir, BEST_SUBNET),
                     yaml.safe_dump(fix_subnet, sort_keys=False).encode())
        self.runner.logger.info(f'Search finished: {BEST_SUBNET} and {model_name} saved in '
                                f'{work_dir}')

    # ---- predictor ------------------------------------------------------------------

    def _init_predictor(self) -> None:
        """Load or fit the metric predictor, then score with it."""
        if getattr(self.predictor, 'handler_ckpt', None):
            self.predictor.load_checkpoint()
        else:
            samples = self.predictor.train_samples
            if isinstance(samples, str):
                self.candidates = load_candidates(samples)
            else:
                num_candidates, self.num_candidates = self.num_candidates, samples
                self.sample_candidates()
                self.update_candidates_scores()
                self.num_candidates = num_candidates
            inputs = np.array([self.predictor.model2vector(s) for s in self.candidates.subnets])
            self.predictor.fit(inputs, np.array(self.candidates.scores))
            if self.runner.rank == 0 and hasattr(self.predictor, 'save_checkpoint'):
                self.predictor.save_checkpoint(osp.join(self.runner.work_dir, 'predictor'))
        self.use_predictor = True
        self.candidates = Candidates()


def _torch_bytes(obj: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()

