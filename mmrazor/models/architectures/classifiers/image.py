"""``SearchableImageClassifier``: an mmpretrain ``ImageClassifier`` over a supernet,
with a searchable input size and a head that follows the backbone's width."""
from typing import Dict, List, Optional

import torch
from mmpretrain.models import ImageClassifier

from mmrazor.models.architectures.dynamic_ops import DynamicInputResizer
from mmrazor.registry import MODELS
from mmrazor.utils.lookup import get_module


@MODELS.register_module()
class SearchableImageClassifier(ImageClassifier):
    """``ImageClassifier`` whose inputs are resized to a searchable shape first.

    Args:
        backbone (dict): As ``ImageClassifier``.
        neck (dict, optional): As ``ImageClassifier``. Defaults to None.
        head (dict, optional): As ``ImageClassifier``. Defaults to None.
        pretrained (str, optional): As ``ImageClassifier``. Defaults to None.
        train_cfg (dict, optional): As ``ImageClassifier``. Defaults to None.
        data_preprocessor (dict, optional): As ``ImageClassifier``. Defaults to
            None.
        init_cfg (dict, optional): As ``ImageClassifier``. Defaults to None.
        input_resizer_cfg (dict, optional): ``dict(input_sizes=[[H, W], ...])``
            (a ``DynamicInputResizer`` whose shape mutable has alias
            ``'input_shape'``), or MMRazor's older
            ``dict(input_resizer=dict(type='DynamicInputResizer'),
            mutable_shape=dict(type='OneShotMutableValue', value_list=...))``.
            Defaults to None (no resizing).
        connect_head (dict, optional): ``{head method: 'component.attribute'}``;
            each head method is called with that attribute, e.g.
            ``dict(connect_with_backbone='backbone.last_mutable_channels')``.
            Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 neck: Optional[dict] = None,
                 head: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 train_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 input_resizer_cfg: Optional[dict] = None,
                 connect_head: Optional[dict] = None) -> None:
        if data_preprocessor is None or isinstance(data_preprocessor, dict):
            # mmpretrain's default type, scoped: this class builds under 'mmrazor'
            data_preprocessor = dict(data_preprocessor or {})
            data_preprocessor.setdefault('type', 'mmpretrain.ClsDataPreprocessor')
        super().__init__(backbone, neck, head, pretrained, train_cfg, data_preprocessor,
                         init_cfg)
        if self.with_head and connect_head is not None:
            for method, source in connect_head.items():
                if not callable(getattr(self.head, method, None)):
                    raise AttributeError(f'connect_head: {type(self.head).__name__} has no '
                                         f'method {method!r} (e.g. DynamicLinearClsHead.'
                                         'connect_with_backbone)')
                getattr(self.head, method)(self._attribute(source))
        self.input_resizer = None if input_resizer_cfg is None else \
            self._build_input_resizer(input_resizer_cfg)

    def _attribute(self, path: str) -> object:
        owner, _, attr = path.rpartition('.')
        module = get_module(self, owner) if owner else self
        if not hasattr(module, attr):
            raise AttributeError(f'connect_head: {owner or type(self).__name__} has no '
                                 f'attribute {attr!r}')
        return getattr(module, attr)

    @staticmethod
    def _build_input_resizer(cfg: Dict) -> DynamicInputResizer:
        cfg = dict(cfg)
        if 'input_sizes' in cfg:
            sizes: List = [list(size) for size in cfg.pop('input_sizes')]
            resizer = DynamicInputResizer()
            mutable = MODELS.build(dict(type='OneShotMutableValue', value_list=sizes,
                                        alias='input_shape'))
        elif 'input_resizer' in cfg and 'mutable_shape' in cfg:
            resizer = MODELS.build(cfg.pop('input_resizer'))
            mutable = MODELS.build(cfg.pop('mutable_shape'))
        else:
            raise KeyError('input_resizer_cfg needs input_sizes=[[H, W], ...] (or '
                           f'input_resizer and mutable_shape); got keys {list(cfg)}')
        if cfg:
            raise KeyError(f'input_resizer_cfg has unknown keys {list(cfg)}')
        if not isinstance(resizer, DynamicInputResizer):
            raise TypeError(f'input_resizer must build a DynamicInputResizer, got '
                            f'{type(resizer).__name__}')
        resizer.register_mutable_attr('shape', mutable)
        return resizer

    def extract_feat(self, inputs: torch.Tensor, stage: str = 'neck') -> torch.Tensor:
        """Resize the inputs to the chosen shape, then extract features."""
        if self.input_resizer is not None:
            inputs = self.input_resizer(inputs)
        return super().extract_feat(inputs, stage)
