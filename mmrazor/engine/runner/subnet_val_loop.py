"""``SubnetValLoop``: validate the largest, smallest (and random) subnets of a supernet."""
from typing import Any, Dict, List, Optional, Union

import torch
from mmengine.evaluator import Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner import ValLoop
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.data import DataLoader

from mmrazor.registry import LOOPS, TASK_UTILS
from mmrazor.structures import export_fix_subnet

from .utils import CalibrateBNMixin
from .utils.check import measured_part

DEFAULT_KINDS = ('max', 'min')


@LOOPS.register_module()
class SubnetValLoop(ValLoop, CalibrateBNMixin):
    """Validation of NAS supernets, each subnet after BN recalibration.

    For every kind in the algorithm's ``sample_kinds`` (``('max', 'min')`` when it
    has none; ``'random0'``, ``'random1'``, ... draw random subnets) the subnet is
    set, its batch norms are recalibrated on ``calibrate_sample_num`` training
    samples, it is evaluated and its static export is measured; metrics are
    prefixed ``max_subnet.``, ``min_subnet.``, ``random0_subnet.``, ... With
    ``evaluate_fixed_subnet`` the model (a fixed subnet) is evaluated once, prefixed
    ``fix_subnet.``. The supernet's choices are restored afterwards.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The validation dataloader.
        evaluator (Evaluator | dict | list): The evaluator.
        fp16 (bool): Validate with autocast. Defaults to False.
        evaluate_fixed_subnet (bool): Evaluate the model as it is, once.
            Defaults to False.
        calibrate_sample_num (int): Training samples for BN recalibration (<= 0:
            none). Defaults to 4096.
        estimator_cfg (dict, optional): Measures each subnet. Defaults to None
            (``ResourceEstimator()``).
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 fp16: bool = False,
                 evaluate_fixed_subnet: bool = False,
                 calibrate_sample_num: int = 4096,
                 estimator_cfg: Optional[Dict] = None) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        self.model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not evaluate_fixed_subnet and not hasattr(self.model, 'mutator'):
            raise AttributeError(f'SubnetValLoop validates the subnets of a NAS algorithm '
                                 f'(with a mutator); {type(self.model).__name__} has none. '
                                 'Set evaluate_fixed_subnet=True for a fixed subnet')
        self.evaluate_fixed_subnet = evaluate_fixed_subnet
        self.calibrate_sample_num = calibrate_sample_num
        estimator_cfg = dict(estimator_cfg or {})
        estimator_cfg.setdefault('type', 'mmrazor.ResourceEstimator')
        self.estimator = TASK_UTILS.build(estimator_cfg)

    def run(self) -> Dict[str, Any]:
        """Validate; returns the prefixed metrics."""
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        metrics: Dict[str, Any] = {}
        if self.evaluate_fixed_subnet:
            metrics.update(self._prefixed(self._evaluate_once(self.model), 'fix_subnet'))
        else:
            mutator = self.model.mutator
            previous = mutator.current_choices
            for kind in getattr(self.model, 'sample_kinds', DEFAULT_KINDS):
                if kind in ('max', 'min'):
                    mutator.set_choices(getattr(mutator, f'{kind}_choices'))
                elif kind.startswith('random'):
                    mutator.set_choices(mutator.sample_choices())
                else:
                    raise ValueError(f'unknown sample kind {kind!r}; valid: max, min, '
                                     'random<i>')
                static = export_fix_subnet(self.model, slice_weight=True)[1]
                metrics.update(self._prefixed(self._evaluate_once(static), kind))
            if all(choice is not None for choice in previous.values()):
                mutator.set_choices(previous)
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics

    @staticmethod
    def _prefixed(metrics: Dict[str, Any], kind: str) -> Dict[str, Any]:
        prefix = kind if kind == 'fix_subnet' else f'{kind}_subnet'
        return {f'{prefix}.{key}': value for key, value in metrics.items()}

    def _uses_batch_norm(self) -> bool:
        return any(isinstance(m, _BatchNorm) for m in self.runner.model.modules())

    @torch.no_grad()
    def _evaluate_once(self, measured: torch.nn.Module) -> Dict[str, Any]:
        """Recalibrate, evaluate and measure the subnet now chosen."""
        if self.calibrate_sample_num > 0 and self._uses_batch_norm():
            self.calibrate_bn_statistics(self.runner.train_dataloader,
                                         self.calibrate_sample_num)
        self.runner.model.eval()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        resources = self.estimator.estimate(measured_part(
            getattr(measured, 'architecture', measured)))
        metrics.update({k: v for k, v in resources.items() if k != 'latency_stats'})
        return metrics
