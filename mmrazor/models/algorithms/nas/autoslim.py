"""``AutoSlim``: slimmable supernet training (Yu & Huang, 2019) with the sandwich
rule and in-place distillation over channel widths."""
from typing import Dict, Optional, Union

import torch.nn as nn
from mmengine.model import BaseModel

from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.models.mutators import OneShotChannelMutator
from mmrazor.models.wrappers import AlgorithmDDP
from mmrazor.registry import MODEL_WRAPPERS, MODELS

from .norm_training import NormTrainingMixin
from .sandwich import SandwichAlgorithm

# MMRazor 1.x's wrapper name; the generic wrapper already runs a custom train_step
MODEL_WRAPPERS.register_module('AutoSlimDDP', module=AlgorithmDDP)


@MODELS.register_module()
class AutoSlim(NormTrainingMixin, SandwichAlgorithm):
    """AutoSlim's supernet training: each step trains the widest network on the
    labels and the narrowest and ``num_random_samples`` random widths by in-place
    distillation from it, with one optimizer step (see ``SandwichAlgorithm``).

    Args:
        architecture (dict | BaseModel): The model to slim, e.g. mmpretrain's
            MobileNetV2.
        mutator (dict | OneShotChannelMutator): The channel units and their
            candidate widths.
        distiller (dict | ConfigurableDistiller): In-place distillation.
        norm_training (bool): Keep batch norms in training mode in eval mode too,
            for evaluating widths whose statistics were never tracked alone.
            Defaults to False.
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            architecture's.
        num_random_samples (int): Random widths per step. Defaults to 2.
        init_cfg (dict, optional): Weight init config. Defaults to None.
    """

    mutator_types = (OneShotChannelMutator, )

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator: Union[OneShotChannelMutator, Dict],
                 distiller: Union[ConfigurableDistiller, Dict],
                 norm_training: bool = False,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 num_random_samples: int = 2,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(architecture, mutator, distiller, num_random_samples,
                         data_preprocessor, init_cfg)
        self.norm_training = norm_training
