"""``DMCPSubnetHook``: after DMCP training, export the sampled subnet nearest the
target FLOPs."""
import json
import os.path as osp
from typing import Any, Dict, List, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmrazor.registry import HOOKS, TASK_UTILS
from mmrazor.structures import export_fix_subnet


@HOOKS.register_module()
class DMCPSubnetHook(Hook):
    """Sample subnets from a trained ``DMCP``'s Markov chains and keep the one whose
    FLOPs are nearest its ``target_flops``.

    After training, the subnet of the expected widths and ``subnet_sample_num``
    subnets drawn from the chains are measured (``ResourceEstimator`` FLOPs, in M);
    all are listed in ``<work_dir>/dmcp_subnets.json`` and the nearest one is saved
    as a pruning subnet (``'mutator'`` mode, loadable by ``sub_model``) in
    ``<work_dir>/dmcp_subnet.json``. The model is left at that subnet.

    Args:
        subnet_sample_num (int): Subnets drawn from the chains. Defaults to 10.
        estimator_cfg (dict, optional): The estimator; its ``input_shape`` defaults to
            the mutator's ``demo_input``. Defaults to None.
    """

    priority = 'VERY_LOW'

    def __init__(self, subnet_sample_num: int = 10,
                 estimator_cfg: Optional[Dict[str, Any]] = None) -> None:
        if isinstance(subnet_sample_num, bool) or not isinstance(subnet_sample_num, int) \
                or subnet_sample_num < 0:
            raise ValueError(f'subnet_sample_num must be an int >= 0, got '
                             f'{subnet_sample_num!r}')
        self.subnet_sample_num = subnet_sample_num
        self.estimator_cfg = dict(estimator_cfg or {})

    def after_run(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'target_flops') or not hasattr(model, 'mutator'):
            raise AttributeError(f'DMCPSubnetHook needs a DMCP model, got '
                                 f'{type(model).__name__}')
        best = self.search(model)
        export = export_fix_subnet(model, 'mutator')[0]
        with open(osp.join(runner.work_dir, 'dmcp_subnet.json'), 'w') as f:
            json.dump(export, f, indent=2)
        runner.logger.info(f'DMCPSubnetHook: the subnet nearest {model.target_flops} '
                           f'MFLOPs has {best["flops"]:.2f} MFLOPs; saved to '
                           f'{osp.join(runner.work_dir, "dmcp_subnet.json")}')
        with open(osp.join(runner.work_dir, 'dmcp_subnets.json'), 'w') as f:
            json.dump(self.candidates, f, indent=2)

    def search(self, model) -> Dict[str, Any]:
        """Measure the candidates (``self.candidates``), set and return the nearest."""
        cfg = dict(self.estimator_cfg)
        cfg.setdefault('type', 'mmrazor.ResourceEstimator')
        demo = model.mutator.parse_cfg.get('demo_input')
        if 'input_shape' not in cfg and isinstance(demo, (tuple, list)):
            cfg['input_shape'] = tuple(demo)
        estimator = TASK_UTILS.build(cfg)
        modes = ['expected'] + ['direct'] * self.subnet_sample_num
        self.candidates: List[Dict[str, Any]] = []
        training = model.training
        model.eval()
        for mode in modes:
            choices = model.mutator.sample_subnet(mode)
            model.mutator.set_choices(choices)
            flops = float(estimator.estimate(model.architecture)['flops'])
            self.candidates.append(dict(mode=mode, flops=flops, choices=choices))
        model.train(training)
        best = min(self.candidates, key=lambda c: abs(c['flops'] - model.target_flops))
        model.mutator.set_choices(best['choices'])
        return best
