"""``SPOS``: single-path one-shot supernet training (Guo et al., ECCV 2020)."""
from typing import Any, Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.dist import broadcast_object_list
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from mmrazor.models.mutators import NasMutator
from mmrazor.registry import MODELS

from ..base import BaseAlgorithm, LossResults
from .norm_training import NormTrainingMixin


@MODELS.register_module()
class SPOS(NormTrainingMixin, BaseAlgorithm):
    """Single Path One-Shot NAS: each training step trains one random subnet.

    Every ``loss`` call samples one choice per search group of the mutator,
    uniformly (or with an op's ``choice_probs``), sets it and computes the loss of
    that path only, so only the sampled candidates get gradients. Under
    ``torch.distributed`` rank 0's sample is broadcast, so all ranks train the same
    path whatever their random state. The search (``EvolutionSearchLoop``) and the
    subnet (``sub_model`` with the found YAML) are separate configs.

    Args:
        architecture (dict | BaseModel): The supernet, e.g. an ``ImageClassifier``
            over a ``SearchableShuffleNetV2``.
        mutator (dict | NasMutator, optional): Groups and samples the supernet's
            choices. Defaults to None: ``NasMutator()``.
        norm_training (bool): Keep batch norms in training mode in eval mode too
            (normalise with the batch's statistics), for evaluating subnets whose
            running statistics were never trained alone. Defaults to False.
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            architecture's.
        init_cfg (dict, optional): Weight init config. Defaults to None.

    Note:
        Candidates outside the sampled path get no gradient, so plain DDP needs
        ``find_unused_parameters = True`` (as MMRazor's SPOS configs set);
        ``mmrazor.AlgorithmDDP`` works too.

    Examples:
        >>> model = dict(type='mmrazor.SPOS', architecture=supernet,
        ...              mutator=dict(type='mmrazor.NasMutator'))
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator: Optional[Union[NasMutator, Dict]] = None,
                 norm_training: bool = False,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(architecture, data_preprocessor, init_cfg)
        self.mutator = self._build_mutator(mutator)
        self.mutator.prepare_from_supernet(self.architecture)
        if not self.mutator.search_groups:
            raise ValueError(f'SPOS found nothing to search in {type(self.architecture).__name__}'
                             ': the architecture has no mutables (e.g. a backbone whose '
                             'blocks are OneShotMutableOPs, such as SearchableShuffleNetV2)')
        self.norm_training = norm_training

    @staticmethod
    def _build_mutator(mutator: Optional[Union[NasMutator, Dict]]) -> NasMutator:
        if mutator is None:
            return NasMutator()
        if isinstance(mutator, dict):
            mutator = MODELS.build(mutator)
        if not isinstance(mutator, NasMutator):
            raise TypeError(f'SPOS needs a NasMutator (or its config dict), got '
                            f'{type(mutator).__name__}')
        return mutator

    def sample_subnet(self) -> Dict[str, Any]:
        """A random subnet (``{search group: choice}``), the same on every rank."""
        subnet = [self.mutator.sample_choices()]
        broadcast_object_list(subnet, src=0)  # a no-op outside torch.distributed
        return subnet[0]

    def loss(self, inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None) -> LossResults:
        """The losses of a newly sampled random subnet."""
        self.mutator.set_choices(self.sample_subnet())
        return super().loss(inputs, data_samples)
