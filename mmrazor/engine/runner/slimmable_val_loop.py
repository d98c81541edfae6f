"""``SlimmableValLoop``: evaluate every subnet of a slimmable network."""
from typing import Dict, List, Union

from mmengine.evaluator import Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner import ValLoop
from torch.utils.data import DataLoader

from mmrazor.registry import LOOPS


@LOOPS.register_module()
class SlimmableValLoop(ValLoop):
    """Validate each subnet of a ``SlimmableNetwork`` (its metrics prefixed
    ``subnet_<i>.``); a deployed one (a single static width) is validated as is.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The validation dataloader (or its config).
        evaluator (Evaluator | dict | list): The evaluator (or its config).
        fp16 (bool): Validate with autocast. Defaults to False.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 fp16: bool = False) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'subnets') or not hasattr(model, 'mutator'):
            raise AttributeError(f'{type(self).__name__} needs a SlimmableNetwork (a model '
                                 f'with subnets and a mutator), got {type(model).__name__}')
        self.algorithm = model

    def run(self) -> dict:
        """Metrics of every subnet, the model left at its last subnet."""
        subnets = self.algorithm.subnets
        if not subnets:
            return super().run()
        self.runner.call_hook('before_val')
        metrics = {}
        for index, subnet in enumerate(subnets):
            self.runner.call_hook('before_val_epoch')
            self.runner.model.eval()
            self.algorithm.mutator.set_choices(subnet)
            for idx, data_batch in enumerate(self.dataloader):
                self.run_iter(idx, data_batch)
            subnet_metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
            metrics.update({f'subnet_{index}.{k}': v for k, v in subnet_metrics.items()})
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics
