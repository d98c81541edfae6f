"""``DetNAS``: SPOS over the backbone of an mmdet detector (Chen et al., NeurIPS 2019)."""
from typing import Dict, Optional, Union

import torch.nn as nn
from mmengine.model import BaseModel

from mmrazor.models.mutators import NasMutator
from mmrazor.models.wrappers import AlgorithmDDP
from mmrazor.registry import MODEL_WRAPPERS, MODELS

from .spos import SPOS


@MODELS.register_module()
class DetNAS(SPOS):
    """DetNAS: a detector whose backbone is a one-shot supernet, trained as SPOS.

    Each training step trains one random backbone path (see :class:`SPOS`) with the
    detector's neck and heads. The search (``EvolutionSearchLoop`` with
    ``score_key='coco/bbox_mAP'``) constrains the backbone alone: for detectors,
    ``check_subnet_resources`` and the per-op cost tables measure
    ``architecture.backbone``, as DetNAS reports backbone FLOPs.

    Args:
        architecture (dict | BaseModel): An mmdet detector (e.g. ``FasterRCNN``,
            ``RetinaNet``) over a searchable backbone such as
            ``SearchableShuffleNetV2``.
        mutator (dict | NasMutator, optional): Defaults to None: ``NasMutator()``.
        norm_training (bool): See :class:`SPOS`. Defaults to False.
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            architecture's.
        init_cfg (dict, optional): Weight init config. Defaults to None.

    Examples:
        >>> model = dict(type='mmrazor.DetNAS', architecture=faster_rcnn_supernet,
        ...              mutator=dict(type='mmrazor.NasMutator'))
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator: Optional[Union[NasMutator, Dict]] = None,
                 norm_training: bool = False,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(architecture, mutator, norm_training, data_preprocessor, init_cfg)
        from mmdet.models.detectors import BaseDetector
        if not isinstance(self.architecture, BaseDetector):
            raise TypeError(f'DetNAS searches the backbone of an mmdet detector (a '
                            f'BaseDetector such as FasterRCNN or RetinaNet), got '
                            f'{type(self.architecture).__name__}; use SPOS for other '
                            'models')
        backbone = {id(m) for m in self.architecture.backbone.modules()}
        outside = [key for key, group in self.mutator.search_groups.items()
                   if any(id(m) not in backbone for m in group)]
        if outside:
            raise ValueError(f'DetNAS searches the backbone only, but search groups '
                             f'{outside} have mutables outside architecture.backbone')


# MMRazor's per-algorithm wrapper name: the one AlgorithmDDP serves DetNAS too
MODEL_WRAPPERS.register_module(name='DetNASDDP', module=AlgorithmDDP)
