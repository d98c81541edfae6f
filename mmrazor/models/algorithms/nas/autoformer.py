"""``Autoformer``: one-shot supernet training of vision transformers (AutoFormer,
Chen et al., ICCV 2021)."""
from typing import Dict, Optional, Union

import torch.nn as nn
from mmengine.model import BaseModel

from mmrazor.models.mutators import NasMutator
from mmrazor.registry import MODELS

from .spos import SPOS


@MODELS.register_module()
class Autoformer(SPOS):
    """AutoFormer: each training step trains one random subnet of the supernet.

    The supernet (an ``AutoformerBackbone``) entangles the weights of all choices of
    a layer: a smaller choice uses the first rows and columns of the largest. Every
    ``loss`` call samples one choice per search group of the mutator (the same on
    every rank under ``torch.distributed``) and computes the loss of that subnet, as
    SPOS does. The search is ``EvolutionSearchLoop``; the subnet is ``sub_model``
    with the found YAML.

    Args:
        architecture (dict | BaseModel): The supernet, e.g. a
            ``SearchableImageClassifier`` over an ``AutoformerBackbone``.
        mutator (dict | NasMutator, optional): Groups and samples the supernet's
            choices. Defaults to None: ``NasMutator()``.
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            architecture's.
        init_cfg (dict, optional): Weight init config. Defaults to None.

    Note:
        Layers of unsampled depth get no gradient, so plain DDP needs
        ``find_unused_parameters = True`` (as MMRazor's config sets);
        ``mmrazor.AlgorithmDDP`` works too.
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator: Optional[Union[NasMutator, Dict]] = None,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(architecture, mutator, norm_training=False,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
