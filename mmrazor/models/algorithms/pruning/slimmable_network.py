"""``SlimmableNetwork``: one network trained at several widths at once."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper

from mmrazor.models.algorithms.distill.configurable.single_teacher_distill import add_prefix
from mmrazor.models.mutators import SlimmableChannelMutator
from mmrazor.models.wrappers import AlgorithmDDP
from mmrazor.registry import MODEL_WRAPPERS, MODELS
from mmrazor.structures.subnet.fix_subnet import to_static_model

from ..base import BaseAlgorithm

# MMRazor 1.x's wrapper name; the generic wrapper already runs a custom train_step
MODEL_WRAPPERS.register_module('SlimmableNetworkDDP', module=AlgorithmDDP)


@MODELS.register_module()
class SlimmableNetwork(BaseAlgorithm):
    """Slimmable networks (Yu et al.): every training step runs every subnet.

    Subnet ``i`` sets each unit of the ``SlimmableChannelMutator`` to its ``i``-th
    candidate width (the widths usually come from an AutoSlim search, as a JSON of
    units); each width has its own batch-norm statistics (``SwitchableBatchNorm2d``).
    Each subnet's loss goes through ``optim_wrapper.update_params``, as in MMRazor: with
    the configs' ``accumulative_counts`` equal to the number of subnets, the wrapper
    averages the subnets' gradients and steps once per batch.
    With ``deploy_index`` set, the model is fixed at that subnet and made static
    (plain torch layers), to retrain or evaluate one width.

    Args:
        architecture (dict | BaseModel): The model.
        mutator (dict | SlimmableChannelMutator): Defaults to ``dict(
            type='SlimmableChannelMutator', channel_unit_cfg=dict(
            type='SlimmableChannelUnit', units={}), parse_cfg=dict(
            type='ChannelAnalyzer', demo_input=(1, 3, 224, 224),
            tracer_type='BackwardTracer'))``.
        deploy_index (int): The subnet to deploy, or -1 to train all. Defaults to -1.
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            architecture's.
        init_cfg (dict, optional): Weight init config. Defaults to None.
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator: Union[Dict, SlimmableChannelMutator] = dict(  # noqa: B006
                     type='SlimmableChannelMutator',
                     channel_unit_cfg=dict(type='SlimmableChannelUnit', units={}),
                     parse_cfg=dict(type='ChannelAnalyzer', demo_input=(1, 3, 224, 224),
                                    tracer_type='BackwardTracer')),
                 deploy_index: int = -1,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(architecture, data_preprocessor, init_cfg)
        mutator = MODELS.build(mutator) if isinstance(mutator, dict) else mutator
        if not isinstance(mutator, SlimmableChannelMutator):
            raise TypeError(f'SlimmableNetwork needs a SlimmableChannelMutator, got '
                            f'{type(mutator).__name__}')
        self.mutator = mutator
        self.mutator.prepare_from_supernet(self.architecture)
        self.num_subnet = len(self.mutator.subnets)
        if self.num_subnet == 0:
            raise ValueError('SlimmableNetwork found no subnets: give the units '
                             'candidate_choices (channel_unit_cfg.units)')
        if isinstance(deploy_index, bool) or not isinstance(deploy_index, int) or \
                not -1 <= deploy_index < self.num_subnet:
            raise ValueError(f'deploy_index must be -1 (train all) or a subnet index in '
                             f'[0, {self.num_subnet}), got {deploy_index!r}')
        self.deploy_index = deploy_index
        self.is_deployed = deploy_index != -1
        if self.is_deployed:
            self._deploy(deploy_index)

    def _deploy(self, index: int) -> None:
        """Fix subnet ``index`` and turn the architecture into plain layers."""
        self.mutator.set_choices(self.mutator.subnets[index])
        self.mutator.fix_channel_mutables()
        to_static_model(self.architecture)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """Update with the loss of every subnet (the optim wrapper's
        ``accumulative_counts`` decides when it steps)."""
        if self.is_deployed:
            return super().train_step(data, optim_wrapper)
        data = self.data_preprocessor(data, True)
        log_vars: Dict[str, torch.Tensor] = {}
        for index, subnet in enumerate(self.mutator.subnets):
            self.mutator.set_choices(subnet)
            with optim_wrapper.optim_context(self):
                losses = self(**data, mode='loss')
            loss, subnet_vars = self.parse_losses(losses)
            optim_wrapper.update_params(loss)
            log_vars.update(add_prefix(subnet_vars, f'subnet_{index}'))
        return log_vars

    @property
    def subnets(self) -> List[Dict]:
        """The subnets' unit choices (empty once deployed: the model is static)."""
        return [] if self.is_deployed else self.mutator.subnets
