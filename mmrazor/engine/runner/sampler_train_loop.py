"""``GreedySamplerTrainLoop``: supernet training on the best subnets of a pool."""
import math
import os.path as osp
import random
from abc import abstractmethod
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.dist import broadcast_object_list
from mmengine.evaluator import Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner import IterBasedTrainLoop
from mmengine.utils import is_list_of
from torch.utils.data import DataLoader

from mmrazor.models.task_modules.estimators.cost_table import SubnetCostTable
from mmrazor.registry import LOOPS, TASK_UTILS
from mmrazor.structures import Candidates
from mmrazor.structures.subnet.candidate import subnet_key

from .utils import check_constraints_range, check_subnet_resources, within_constraints
from .utils.search_state import dump_data_pickle

Subnet = Dict[str, Any]
# 'consine' is MMRazor's spelling of 'cosine'; both are accepted
PROB_SCHEDULES = ('linear', 'cosine', 'consine')
CANDIDATES_FILE = 'candidates.pkl'


class BaseSamplerTrainLoop(IterBasedTrainLoop):
    """Iteration-based supernet training where the loop, not the algorithm, picks
    the subnet each iteration trains (:meth:`sample_subnet`).

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The training data.
        max_iters (int): Training iterations.
        val_begin (int): The iteration validation begins at. Defaults to 1.
        val_interval (int): Validation interval. Defaults to 1000.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_iters: int,
                 val_begin: int = 1,
                 val_interval: int = 1000) -> None:
        super().__init__(runner, dataloader, max_iters, val_begin, val_interval)
        self.model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(self.model, 'mutator') or not hasattr(self.model, 'architecture'):
            raise AttributeError(f'{type(self).__name__} trains a NAS algorithm (with a '
                                 f'mutator and an architecture, e.g. SPOS), got '
                                 f'{type(self.model).__name__}')

    @abstractmethod
    def sample_subnet(self) -> Subnet:
        """The subnet the next iteration trains."""

    def run_iter(self, data_batch: Sequence[dict]) -> None:
        """Train the subnet :meth:`sample_subnet` picks on one batch."""
        subnet = self.sample_subnet()
        self.runner.model.train()  # picking may have evaluated subnets
        with self._train_only(subnet):
            super().run_iter(data_batch)

    @contextmanager
    def _train_only(self, subnet: Subnet) -> Iterator[None]:
        """Set ``subnet``, and make the algorithm's own sampler return it while the
        train step runs: SPOS's ``loss`` draws its path with ``sample_subnet``,
        which would otherwise replace the loop's choice."""
        self.model.mutator.set_choices(subnet)
        own = self.model.__dict__.get('sample_subnet')
        self.model.sample_subnet = lambda *args, **kwargs: dict(subnet)
        try:
            yield
        finally:
            if own is None:
                del self.model.sample_subnet
            else:
                self.model.sample_subnet = own


@LOOPS.register_module()
class GreedySamplerTrainLoop(BaseSamplerTrainLoop):
    """Trains a supernet on the best subnets found so far (GreedyNAS-style).

    Whenever the subnets to train run out, ``num_samples`` subnets are drawn: each
    is, with probability ``cur_prob``, one of the pool's subnets, else a random
    subnet meeting ``constraints_range``. New ones join the pool; every pool
    subnet is then scored on ``dataloader_val`` with the current weights, the pool
    keeps its ``num_candidates`` best, and its ``top_k`` best are trained one per
    iteration. ``cur_prob`` grows from ``init_prob`` to ``max_prob`` between
    ``schedule_start_iter`` and ``schedule_end_iter`` (linearly or along half a
    cosine). At the end the pool is saved as ``candidates.pkl`` in the work dir
    (data only), which ``EvolutionSearchLoop(init_candidates=...)`` can start from.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The training data.
        dataloader_val (DataLoader | dict): Scores the subnets.
        evaluator (Evaluator | dict | list): Computes their metrics.
        max_iters (int): Training iterations.
        val_begin (int): The iteration validation begins at. Defaults to 1.
        val_interval (int): Validation interval. Defaults to 1000.
        score_key (str): The metric that scores. Defaults to 'accuracy/top1'.
        constraints_range (dict): ``{'flops' | 'params' | 'latency': (low, high) or
            high}`` in the estimator's units. Defaults to dict(flops=(0, 330)).
        estimator_cfg (dict, optional): The resource estimator. Defaults to None
            (``ResourceEstimator()``).
        num_candidates (int): Most subnets the pool keeps. Defaults to 1000.
        num_samples (int): Subnets drawn per refresh. Defaults to 10.
        top_k (int): Best subnets trained per refresh. Defaults to 5.
        prob_schedule (str): 'linear' or 'cosine'. Defaults to 'linear'.
        schedule_start_iter (int): Iteration the schedule starts at (10000 suits a
            batch size of 1024). Defaults to 10000.
        schedule_end_iter (int): Iteration it ends at (120 epochs x 1203 iterations
            at a batch size of 1024). Defaults to 144360.
        init_prob (float): Probability of drawing from the pool at the start.
            Defaults to 0.
        max_prob (float): Probability at the end. Defaults to 0.8.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 dataloader_val: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 max_iters: int,
                 val_begin: int = 1,
                 val_interval: int = 1000,
                 score_key: str = 'accuracy/top1',
                 constraints_range: Dict[str, Any] = dict(flops=(0, 330)),  # noqa: B006
                 estimator_cfg: Optional[Dict] = None,
                 num_candidates: int = 1000,
                 num_samples: int = 10,
                 top_k: int = 5,
                 prob_schedule: str = 'linear',
                 schedule_start_iter: int = 10000,
                 schedule_end_iter: int = 144360,
                 init_prob: float = 0.,
                 max_prob: float = 0.8) -> None:
        # bad arguments fail before any dataloader is built
        self.constraints_range = check_constraints_range(constraints_range)
        if prob_schedule not in PROB_SCHEDULES:
            raise ValueError(f'prob_schedule must be one of {PROB_SCHEDULES[:2]}, got '
                             f'{prob_schedule!r}')
        if not 0 < top_k <= num_candidates:
            raise ValueError(f'top_k must be in [1, num_candidates={num_candidates}], got '
                             f'{top_k}')
        if num_samples < 1:
            raise ValueError(f'num_samples must be at least 1, got {num_samples}')
        if not schedule_start_iter < schedule_end_iter:
            raise ValueError(f'schedule_start_iter ({schedule_start_iter}) must be less than '
                             f'schedule_end_iter ({schedule_end_iter})')
        for name, prob in (('init_prob', init_prob), ('max_prob', max_prob)):
            if not 0 <= prob <= 1:
                raise ValueError(f'{name} must be a probability in [0, 1], got {prob!r}')
        super().__init__(runner, dataloader, max_iters, val_begin, val_interval)
        if isinstance(dataloader_val, dict):
            self.dataloader_val = runner.build_dataloader(dataloader_val, seed=runner.seed)
        else:
            self.dataloader_val = dataloader_val
        if isinstance(evaluator, dict) or is_list_of(evaluator, dict):
            self.evaluator = runner.build_evaluator(evaluator)
        else:
            self.evaluator = evaluator
        if hasattr(self.dataloader_val.dataset, 'metainfo'):
            self.evaluator.dataset_meta = self.dataloader_val.dataset.metainfo
        self.score_key = score_key
        self.num_candidates = num_candidates
        self.num_samples = num_samples
        self.top_k = top_k
        self.prob_schedule = 'cosine' if prob_schedule == 'consine' else prob_schedule
        self.schedule_start_iter = schedule_start_iter
        self.schedule_end_iter = schedule_end_iter
        self.init_prob = init_prob
        self.max_prob = max_prob
        self.cur_prob = init_prob
        self.candidates = Candidates()
        self.top_k_candidates = Candidates()  # the subnets still to train, best first
        estimator_cfg = dict(estimator_cfg or {})
        estimator_cfg.setdefault('type', 'mmrazor.ResourceEstimator')
        self.estimator = TASK_UTILS.build(estimator_cfg)
        self._cost_table: Optional[SubnetCostTable] = None
        self._table_tried = False

    def run(self) -> torch.nn.Module:
        """Train, then save the pool."""
        model = super().run()
        if self.runner.rank == 0:
            dump_data_pickle(list(self.candidates.data),
                             osp.join(self.runner.work_dir, CANDIDATES_FILE))
        return model

    def sample_subnet(self) -> Subnet:
        """The next of the top k; when they run out, refresh the pool first."""
        if not self.top_k_candidates:
            self.update_cur_prob(self._iter)
            sampled, from_supernet = self.get_candidates_with_sample(self.num_samples)
            in_pool = {subnet_key(s) for s in self.candidates.subnets}
            self.candidates.extend([s for s in sampled if subnet_key(s) not in in_pool])
            if not self.candidates:
                raise RuntimeError(f'none of {self.num_samples} random subnets met '
                                   f'constraints_range {self.constraints_range}: widen it '
                                   'or raise num_samples')
            self.update_candidates_scores()
            self.candidates.sort_by(key_indicator='score', reverse=True)
            self.candidates = Candidates(self.candidates.data[:self.num_candidates])
            self.top_k_candidates = Candidates(self.candidates.data[:self.top_k])
            self.runner.logger.info(
                f'GreedySampler: [{self._iter:>6d}] prob {self.cur_prob:.3f} '
                f'num_sample_from_supernet {from_supernet}/{self.num_samples} top1_score '
                f'{self.top_k_candidates.scores[0]:.3f} cur_num_candidates: '
                f'{len(self.candidates)}')
        subnet = self.top_k_candidates.subnets[0]
        del self.top_k_candidates.data[0]
        return subnet

    def update_cur_prob(self, cur_iter: int) -> None:
        """The probability of drawing from the pool at ``cur_iter``."""
        if cur_iter <= self.schedule_start_iter:
            self.cur_prob = self.init_prob
        elif cur_iter >= self.schedule_end_iter:
            self.cur_prob = self.max_prob
        else:
            progress = (cur_iter - self.schedule_start_iter) / (
                self.schedule_end_iter - self.schedule_start_iter)
            if self.prob_schedule == 'cosine':
                progress = (1 - math.cos(math.pi * progress)) / 2
            self.cur_prob = self.init_prob + (self.max_prob - self.init_prob) * progress

    def get_candidates_with_sample(self, num_samples: int) -> Tuple[List[Subnet], int]:
        """``num_samples`` draws (rank 0 draws, every rank gets them): pool subnets
        with probability ``cur_prob``, else random subnets that meet the
        constraints (none twice); also how many came from the supernet."""
        drawn: List[Any] = [[], 0]
        if self.runner.rank == 0:
            pool = self.candidates.subnets
            seen = {subnet_key(s) for s in pool}
            for _ in range(num_samples):
                if pool and random.random() < self.cur_prob:
                    drawn[0].append(random.choice(pool))
                    continue
                drawn[1] += 1
                subnet = self.model.mutator.sample_choices()
                if subnet_key(subnet) not in seen and self._check_constraints(subnet)[0]:
                    seen.add(subnet_key(subnet))
                    drawn[0].append(subnet)
        broadcast_object_list(drawn)
        return drawn[0], drawn[1]

    def update_candidates_scores(self) -> None:
        """Score every pool subnet with the current weights."""
        for index, candidate in enumerate(self.candidates.subnets):
            self.model.mutator.set_choices(candidate)
            metrics = self._val_candidate()
            if self.score_key not in metrics:
                raise KeyError(f'score_key {self.score_key!r} is not among the metrics '
                               f'{sorted(metrics)}')
            self.candidates.set_score(index, float(metrics[self.score_key]))

    @torch.no_grad()
    def _val_candidate(self) -> Dict[str, Any]:
        self.runner.model.eval()
        for data_batch in self.dataloader_val:
            outputs = self.runner.model.val_step(data_batch)
            self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        return self.evaluator.evaluate(len(self.dataloader_val.dataset))

    def _check_constraints(self, subnet: Subnet) -> Tuple[bool, Dict[str, Any]]:
        """Whether ``subnet`` meets the constraints (by the supernet's cost tables
        when they can measure them, else by counting the static subnet)."""
        if not self.constraints_range:
            return True, {}
        if not self._table_tried:
            self._table_tried = True
            if set(self.constraints_range) <= {'flops', 'params'}:
                self._cost_table = SubnetCostTable.try_build(self.model, self.estimator)
        if self._cost_table is not None:
            results = self._cost_table.estimate(subnet)
            return within_constraints(results, self.constraints_range), results
        return check_subnet_resources(self.model, subnet, self.estimator,
                                      self.constraints_range)
