"""``BigNAS``: one-shot supernet training with the sandwich rule (Yu et al. 2020);
with ``OFAConv2d`` in the supernet it trains Once-for-All's space."""
from typing import Dict, List, Optional, Union

import torch.nn as nn
from mmengine.model import BaseModel

from mmrazor.models.architectures.dynamic_ops import DynamicSequential
from mmrazor.models.architectures.ops.mobilenet_series import MBBlock
from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.models.mutators import NasMutator
from mmrazor.models.wrappers import AlgorithmDDP
from mmrazor.registry import MODEL_WRAPPERS, MODELS

from .sandwich import SandwichAlgorithm

# MMRazor 1.x's wrapper name; the generic wrapper already runs a custom train_step
MODEL_WRAPPERS.register_module('BigNASDDP', module=AlgorithmDDP)


@MODELS.register_module()
class BigNAS(SandwichAlgorithm):
    """BigNAS: each step trains the max subnet on the labels and the min and
    ``num_random_samples`` random subnets by in-place distillation from it, with one
    optimizer step (see ``SandwichAlgorithm``).

    While the max subnet trains, the ``MBBlock``s of the backbone stages listed in
    ``backbone_dropout_stages`` (numbered from 1 over ``backbone.layers`` without
    the last layer; stages the backbone lacks are ignored) drop their residual
    branch with a rate growing linearly with the block's depth up to
    ``drop_path_rate``; other subnets and evaluation use no drop path.

    Args:
        architecture (dict | BaseModel): The supernet, e.g. a
            ``SearchableImageClassifier`` over an ``AttentiveMobileNetV3``.
        mutator (dict | NasMutator): Defaults to None: ``NasMutator()``.
        distiller (dict | ConfigurableDistiller): In-place distillation (e.g. KL
            between the max subnet's and the other subnets' ``head.fc``).
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            architecture's.
        num_random_samples (int): Random subnets per step. Defaults to 2.
        drop_path_rate (float): Largest drop path rate of the max subnet. Defaults
            to 0.2.
        backbone_dropout_stages (list[int]): Stages with drop path. Defaults to
            [6, 7].
        init_cfg (dict, optional): Weight init config. Defaults to None.
    """

    mutator_types = (NasMutator, )

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator: Optional[Union[NasMutator, Dict]] = None,
                 distiller: Optional[Union[ConfigurableDistiller, Dict]] = None,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 num_random_samples: int = 2,
                 drop_path_rate: float = 0.2,
                 backbone_dropout_stages: List[int] = [6, 7],  # noqa: B006
                 init_cfg: Optional[Dict] = None) -> None:
        if distiller is None:
            raise TypeError('BigNAS needs a distiller (e.g. a ConfigurableDistiller with '
                            'KLDivergence between teacher and student head.fc) for the '
                            'in-place distillation of its smaller subnets')
        if not 0 <= drop_path_rate < 1:
            raise ValueError(f'drop_path_rate must be in [0, 1), got {drop_path_rate}')
        super().__init__(architecture, NasMutator() if mutator is None else mutator,
                         distiller, num_random_samples, data_preprocessor, init_cfg)
        self.drop_path_rate = drop_path_rate
        self.backbone_dropout_stages = list(backbone_dropout_stages)
        self._drop_path_rates = self._block_drop_path_rates()

    def _block_drop_path_rates(self) -> Dict[MBBlock, float]:
        """The max subnet's drop path rate of each block of the dropout stages."""
        layers = getattr(getattr(self.architecture, 'backbone', None), 'layers', None)
        stages = [layer for layer in layers or [] if isinstance(layer, DynamicSequential)]
        # stages beyond the backbone's are ignored: MMRazor's OFA config names stage 7
        # of its 6; naming none of them is a mistake
        if self.drop_path_rate > 0 and not any(
                1 <= s <= len(stages) for s in self.backbone_dropout_stages):
            raise ValueError(f'backbone_dropout_stages {self.backbone_dropout_stages} name '
                             f'no stage: the backbone has {len(stages)} DynamicSequential '
                             'stages in backbone.layers (numbered from 1)')
        blocks = [(index, block) for index, stage in enumerate(stages, start=1)
                  for block in stage if isinstance(block, MBBlock)]
        return {block: self.drop_path_rate * position / len(blocks)
                for position, (index, block) in enumerate(blocks, start=1)
                if index in self.backbone_dropout_stages}

    def _before_subnet(self, kind: str) -> None:
        for block, rate in self._drop_path_rates.items():
            block.drop_path_rate = rate if kind == 'max' else 0.
