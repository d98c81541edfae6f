"""``DefaultDemoInput``: the demo input that fits a model, by scope or by model type."""
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple, Type

import torch.nn as nn

from mmrazor.models.algorithms.base import architecture_of
from mmrazor.registry import TASK_UTILS

from .demo_inputs import (
    BaseDemoInput,
    DefaultMMClsDemoInput,
    DefaultMMDemoInput,
    DefaultMMDetDemoInput,
    DefaultMMPoseDemoInput,
    DefaultMMSegDemoInput,
    DefaultMMYoloDemoInput,
    DemoData,
    Shape,
)

SCOPE_DEMO_INPUTS: Dict[str, Type[BaseDemoInput]] = {
    'mmcls': DefaultMMClsDemoInput,
    'mmpretrain': DefaultMMClsDemoInput,
    'mmdet': DefaultMMDetDemoInput,
    'mmseg': DefaultMMSegDemoInput,
    'mmrotate': BaseDemoInput,
    'mmyolo': BaseDemoInput,
    'mmpose': BaseDemoInput,
    'torchvision': BaseDemoInput,
}

# (module, model class, demo input), most specific first; mmengine's BaseModel last
MODEL_TYPE_DEMO_INPUTS: List[Tuple[str, str, Type[BaseDemoInput]]] = [
    ('mmyolo.models', 'YOLODetector', DefaultMMYoloDemoInput),
    ('mmdet.models', 'BaseDetector', DefaultMMDetDemoInput),
    ('mmpretrain.models', 'ImageClassifier', DefaultMMClsDemoInput),
    ('mmpretrain.models', 'BaseClassifier', DefaultMMClsDemoInput),
    ('mmseg.models', 'BaseSegmentor', DefaultMMSegDemoInput),
    ('mmpose.models', 'TopdownPoseEstimator', DefaultMMPoseDemoInput),
    ('mmengine.model', 'BaseModel', DefaultMMDemoInput),
]


def _check_scope(scope: Optional[str]) -> None:
    if scope is not None and scope not in SCOPE_DEMO_INPUTS:
        raise ValueError(f'Unknown demo input scope {scope!r}; valid scopes are None '
                         f'(choose by model type) and {", ".join(SCOPE_DEMO_INPUTS)}')


def get_default_demo_input_class(model: nn.Module,
                                 scope: Optional[str] = None) -> Type[BaseDemoInput]:
    """The demo input class for ``model``.

    Args:
        model (nn.Module): The model; an algorithm is classified by its
            ``architecture``.
        scope (str, optional): An upstream scope such as ``'mmdet'``, which decides
            alone. Defaults to None: decide by the model's type.
    """
    _check_scope(scope)
    if scope is not None:
        return SCOPE_DEMO_INPUTS[scope]
    architecture = architecture_of(model)
    for module_name, class_name, demo_input in MODEL_TYPE_DEMO_INPUTS:
        # a model of an upstream class means its module is imported: look only there,
        # so that classifying a model never imports a task package
        model_class = getattr(sys.modules.get(module_name), class_name, None)
        if model_class is not None and isinstance(architecture, model_class):
            return demo_input
    return BaseDemoInput


@TASK_UTILS.register_module()
class DefaultDemoInput(BaseDemoInput):
    """The demo input of the class that fits the model (see
    :func:`get_default_demo_input_class`).

    For an algorithm, the data samples follow its architecture and its own data
    preprocessor runs: the returned dict is meant for ``algorithm(**data)``.

    Args:
        input_shape (Sequence[int], optional): Defaults to None, meaning the chosen
            class's ``default_shape``.
        training (bool): Build a training batch. Defaults to False.
        scope (str, optional): Choose the class by this upstream scope. Defaults to
            None: choose by the model's type.
        kwargs (dict, optional): Extra items of a returned dict (e.g.
            ``dict(mode='loss')``). Defaults to None.
    """

    def __init__(self,
                 input_shape: Optional[Sequence[int]] = None,
                 training: bool = False,
                 scope: Optional[str] = None,
                 kwargs: Optional[Dict[str, Any]] = None) -> None:
        _check_scope(scope)
        self.input_shape = None if input_shape is None else tuple(input_shape)
        self.training = bool(training)
        self.scope = scope
        self.kwargs = dict(kwargs or {})

    def _get_data(self, model: Optional[nn.Module], input_shape: Optional[Shape],
                  training: bool) -> DemoData:
        demo_input = get_default_demo_input_class(model, self.scope)
        return demo_input(input_shape, training, self.kwargs).get_data(model)


def defaul_demo_inputs(model: nn.Module,
                       input_shape: Optional[Sequence[int]],
                       training: bool = False,
                       scope: Optional[str] = None) -> DemoData:
    """The default demo input of ``model`` (MMRazor 1.x's name, typo included).

    Args:
        model (nn.Module): The model or algorithm.
        input_shape (Sequence[int], optional): None means the class's default shape.
        training (bool): Build a training batch. Defaults to False.
        scope (str, optional): See :class:`DefaultDemoInput`. Defaults to None.
    """
    return DefaultDemoInput(input_shape, training, scope).get_data(model)


default_demo_inputs = defaul_demo_inputs
