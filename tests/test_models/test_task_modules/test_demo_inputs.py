"""Demo inputs on real mmpretrain / mmdet / mmseg models built from their configs."""
import importlib.util
from typing import Dict

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel

from mmrazor.models.algorithms.base import BaseAlgorithm
from mmrazor.models.task_modules import (
    BaseDemoInput,
    DefaultDemoInput,
    DefaultMMClsDemoInput,
    DefaultMMDemoInput,
    DefaultMMDetDemoInput,
    DefaultMMPoseDemoInput,
    DefaultMMRotateDemoInput,
    DefaultMMSegDemoInput,
    DefaultMMYoloDemoInput,
    defaul_demo_inputs,
    default_demo_inputs,
    get_default_demo_input_class,
)
from mmrazor.registry import TASK_UTILS
from mmrazor.utils import build_model_from_cfg_path, load_upstream_config

BN = dict(type='BN', requires_grad=True)


@pytest.fixture(autouse=True)
def seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(scope='module')
def classifier() -> nn.Module:
    # the runner gives the model the config's top-level data_preprocessor; so do we
    cfg_path = 'mmpretrain::resnet/resnet18_8xb32_in1k.py'
    preprocessor = load_upstream_config(cfg_path).data_preprocessor
    return build_model_from_cfg_path(cfg_path, data_preprocessor=preprocessor)


def build_detector(cfg_path: str, **overrides) -> nn.Module:
    """An mmdet detector without its backbone's pretrained init (nothing downloads)."""
    backbone = dict(init_cfg=None, **overrides.pop('backbone', {}))
    return build_model_from_cfg_path(f'mmdet::{cfg_path}', backbone=backbone, **overrides)


# the two-stage detectors on a ResNet-18 backbone, to keep the tests fast
R18 = dict(backbone=dict(depth=18), neck=dict(in_channels=[64, 128, 256, 512]))


@pytest.fixture(scope='module')
def retinanet() -> nn.Module:
    return build_detector('retinanet/retinanet_r18_fpn_1x_coco.py')


@pytest.fixture(scope='module')
def faster_rcnn() -> nn.Module:
    return build_detector('faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', **R18)


@pytest.fixture(scope='module')
def mask_rcnn() -> nn.Module:
    return build_detector('mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', **R18)


@pytest.fixture(scope='module')
def pspnet() -> nn.Module:
    # SyncBN needs a process group: plain BN on CPU; no padding to the 512x1024 crop
    return build_model_from_cfg_path(
        'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py',
        backbone=dict(norm_cfg=BN), decode_head=dict(norm_cfg=BN),
        auxiliary_head=dict(norm_cfg=BN), data_preprocessor=dict(size=(64, 64)))


class ToyMMModel(BaseModel):
    """A plain MMEngine model: one conv, its output in 'tensor' mode."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.conv(inputs)
        return {'loss': out.mean()} if mode == 'loss' else out


def assert_trains(model: BaseModel, losses: Dict[str, torch.Tensor]) -> None:
    """The losses are finite and their backward pass reaches the model's weights."""
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss)
    model.zero_grad()
    loss.backward()
    grads = [param.grad for param in model.parameters() if param.grad is not None]
    assert grads and any(grad.abs().sum() > 0 for grad in grads)


def test_base_demo_input_follows_the_model_device_and_dtype() -> None:
    model = nn.Conv2d(3, 2, 3).double()
    x = BaseDemoInput((2, 3, 8, 8))(model)
    assert x.shape == (2, 3, 8, 8) and x.dtype == torch.float64
    assert model(x).shape == (2, 2, 6, 6)
    assert BaseDemoInput().get_data(nn.ReLU()).dtype == torch.float32
    assert BaseDemoInput().get_data(nn.ReLU(), input_shape=(4, 10)).shape == (4, 10)


def test_mm_demo_input_is_a_forward_dict_updated_by_kwargs() -> None:
    model = ToyMMModel()
    data = DefaultMMDemoInput((2, 3, 8, 8)).get_data(model)
    assert data['data_samples'] is None and data['mode'] == 'tensor'
    assert model(**data).shape == (2, 4, 6, 6)
    data = DefaultMMDemoInput((2, 3, 8, 8), kwargs=dict(mode='loss'))(model)
    assert data['mode'] == 'loss'
    assert_trains(model, model(**data))


def test_cls_demo_input_is_a_preprocessed_batch(classifier) -> None:
    from mmpretrain.structures import DataSample
    classifier.eval()
    data = DefaultMMClsDemoInput((2, 3, 64, 64)).get_data(classifier)
    samples = data['data_samples']
    assert all(isinstance(sample, DataSample) for sample in samples)
    assert samples[0].img_shape == (64, 64)
    assert all(0 <= int(sample.gt_label) < 1000 for sample in samples)
    # the raw 0-255 images were normalized by the model's own preprocessor
    preprocessor = classifier.data_preprocessor
    low = ((0 - preprocessor.mean) / preprocessor.std).min()
    high = ((255 - preprocessor.mean) / preprocessor.std).max()
    assert data['inputs'].min() >= low and data['inputs'].max() <= high
    assert data['inputs'].min() < 0
    with torch.no_grad():
        assert classifier(**data).shape == (2, 1000)


def test_cls_training_batch_gives_a_loss(classifier) -> None:
    classifier.train()
    data = DefaultMMClsDemoInput((2, 3, 64, 64), training=True,
                                 kwargs=dict(mode='loss'))(classifier)
    assert_trains(classifier, classifier(**data))


def test_det_demo_input_has_boxes_meta_and_padding(retinanet) -> None:
    from mmdet.structures import DetDataSample
    retinanet.eval()
    data = DefaultMMDetDemoInput((1, 3, 100, 120)).get_data(retinanet)
    sample = data['data_samples'][0]
    assert isinstance(sample, DetDataSample)
    assert sample.img_shape == (100, 120) and sample.scale_factor == (1.0, 1.0)
    # the preprocessor padded to its size divisor (32) and recorded the batch shape
    assert data['inputs'].shape == (1, 3, 128, 128)
    assert sample.batch_input_shape == (128, 128)
    boxes = sample.gt_instances.bboxes
    assert boxes.shape == (3, 4) and (boxes[:, 2:] > boxes[:, :2]).all()
    assert boxes[:, 0::2].max() <= 120 and boxes[:, 1::2].max() <= 100 and boxes.min() >= 0
    assert (sample.gt_instances.labels < 80).all()
    assert len(sample.ignored_instances) == 0 and 'masks' not in sample.gt_instances
    with torch.no_grad():
        cls_scores, bbox_preds = retinanet(**data)
    assert len(cls_scores) == 5 and cls_scores[0].shape == (1, 9 * 80, 16, 16)
    assert bbox_preds[0].shape == (1, 9 * 4, 16, 16)


@pytest.mark.parametrize('name', ['retinanet', 'faster_rcnn'])
def test_det_training_batch_gives_a_loss(name, request) -> None:
    detector = request.getfixturevalue(name)
    detector.train()
    data = DefaultMMDetDemoInput((1, 3, 128, 128), training=True,
                                 kwargs=dict(mode='loss'))(detector)
    losses = detector(**data)
    assert 'loss_cls' in losses
    assert_trains(detector, losses)


def test_two_stage_detector_runs_in_tensor_mode(faster_rcnn) -> None:
    faster_rcnn.eval()
    data = DefaultMMDetDemoInput((1, 3, 128, 128))(faster_rcnn)
    with torch.no_grad():
        (cls_score, bbox_pred), = faster_rcnn(**data)
    assert cls_score.shape[1] == 81 and bbox_pred.shape[1] == 80 * 4


def test_mask_detector_gets_gt_masks(mask_rcnn) -> None:
    from mmdet.structures.mask import BitmapMasks
    mask_rcnn.train()
    data = DefaultMMDetDemoInput((1, 3, 100, 100), training=True,
                                 kwargs=dict(mode='loss'))(mask_rcnn)
    gt = data['data_samples'][0].gt_instances
    # masks fill their boxes and were padded with the image (to 128, size divisor 32)
    assert isinstance(gt.masks, BitmapMasks) and gt.masks.masks.shape == (3, 128, 128)
    x1, y1, x2, y2 = gt.bboxes[0].long().tolist()
    assert gt.masks.masks[0, y1:y2, x1:x2].all() and gt.masks.masks[0].sum() < 100 * 100
    losses = mask_rcnn(**data)
    assert 'loss_mask' in losses
    assert_trains(mask_rcnn, losses)


def test_seg_demo_input_and_loss(pspnet) -> None:
    from mmseg.structures import SegDataSample
    pspnet.eval()
    data = DefaultMMSegDemoInput((2, 3, 64, 64)).get_data(pspnet)
    sample = data['data_samples'][0]
    assert isinstance(sample, SegDataSample) and sample.padding_size == [0, 0, 0, 0]
    assert sample.gt_sem_seg.data.shape == (1, 64, 64)
    assert sample.gt_sem_seg.data.max() < 19
    with torch.no_grad():
        assert pspnet(**data).shape == (2, 19, 8, 8)
    pspnet.train()  # batch 2: the 1x1 pyramid pooling branch has BN
    data = DefaultMMSegDemoInput((2, 3, 64, 64), True, dict(mode='loss'))(pspnet)
    losses = pspnet(**data)
    assert {'decode.loss_ce', 'aux.loss_ce'} <= set(losses)
    assert_trains(pspnet, losses)


def test_default_demo_input_class_by_model_type(classifier, retinanet, faster_rcnn,
                                                pspnet) -> None:
    assert get_default_demo_input_class(classifier) is DefaultMMClsDemoInput
    assert get_default_demo_input_class(retinanet) is DefaultMMDetDemoInput
    assert get_default_demo_input_class(faster_rcnn) is DefaultMMDetDemoInput
    assert get_default_demo_input_class(pspnet) is DefaultMMSegDemoInput
    assert get_default_demo_input_class(ToyMMModel()) is DefaultMMDemoInput
    assert get_default_demo_input_class(nn.Linear(2, 2)) is BaseDemoInput


@pytest.mark.parametrize('scope, expected', [
    ('mmcls', DefaultMMClsDemoInput), ('mmpretrain', DefaultMMClsDemoInput),
    ('mmdet', DefaultMMDetDemoInput), ('mmseg', DefaultMMSegDemoInput),
    ('mmrotate', BaseDemoInput), ('mmyolo', BaseDemoInput), ('mmpose', BaseDemoInput),
    ('torchvision', BaseDemoInput)])
def test_default_demo_input_class_by_scope(scope, expected, classifier) -> None:
    assert get_default_demo_input_class(classifier, scope) is expected


def test_default_demo_input_built_from_the_registry(retinanet) -> None:
    demo_input = TASK_UTILS.build(dict(type='DefaultDemoInput', scope='mmdet',
                                       input_shape=(1, 3, 64, 64)))
    retinanet.eval()
    data = demo_input(retinanet)
    assert data['inputs'].shape == (1, 3, 64, 64) and data['mode'] == 'tensor'
    assert len(data['data_samples'][0].gt_instances) == 3
    # no input_shape: the chosen class's default shape
    x = TASK_UTILS.build(dict(type='DefaultDemoInput', scope='torchvision'))(retinanet)
    assert x.shape == BaseDemoInput.default_shape


def test_default_demo_input_of_an_algorithm_uses_its_preprocessor(classifier) -> None:
    # the algorithm's own preprocessor does not normalize: its inputs stay 0-255
    algorithm = BaseAlgorithm(architecture=classifier,
                              data_preprocessor=dict(type='ImgDataPreprocessor'))
    assert get_default_demo_input_class(algorithm) is DefaultMMClsDemoInput
    data = DefaultDemoInput((2, 3, 32, 32))(algorithm)
    inputs = data['inputs']
    assert inputs.max() > 1 and (inputs == inputs.round()).all() and inputs.min() >= 0
    algorithm.eval()
    with torch.no_grad():
        assert algorithm(**data).shape == (2, 1000)
    algorithm.train()
    data = DefaultDemoInput((2, 3, 32, 32), training=True,
                            kwargs=dict(mode='loss'))(algorithm)
    assert_trains(algorithm, algorithm(**data))


def test_defaul_demo_inputs_function(classifier) -> None:
    assert default_demo_inputs is defaul_demo_inputs
    classifier.eval()
    data = defaul_demo_inputs(classifier, (1, 3, 32, 32))
    assert data['inputs'].shape == (1, 3, 32, 32)
    assert defaul_demo_inputs(nn.Linear(5, 2), (3, 5), scope='torchvision').shape == (3, 5)


def test_unknown_scope_lists_the_valid_ones(classifier) -> None:
    with pytest.raises(ValueError, match=r"Unknown demo input scope 'mmfoo'.*mmdet"):
        DefaultDemoInput(scope='mmfoo')
    with pytest.raises(ValueError, match=r"'mmfoo'.*mmpretrain"):
        get_default_demo_input_class(classifier, 'mmfoo')


def test_image_tasks_need_a_4d_shape(classifier) -> None:
    with pytest.raises(ValueError, match=r'DefaultMMClsDemoInput needs input_shape '
                                         r'\(N, C, H, W\).*but got \(3, 224, 224\)'):
        DefaultMMClsDemoInput((3, 224, 224))
    demo_input = DefaultMMDetDemoInput()
    with pytest.raises(ValueError, match=r'\(N, C, H, W\).*but got \(1, 3, 0, 64\)'):
        demo_input.get_data(classifier, input_shape=(1, 3, 0, 64))


def test_image_tasks_need_an_mmengine_model() -> None:
    with pytest.raises(TypeError, match='needs an MMEngine model with a data_preprocessor, '
                                        'but got Linear'):
        DefaultMMClsDemoInput()(nn.Linear(2, 2))


@pytest.mark.parametrize('demo_input, package', [
    (DefaultMMPoseDemoInput, 'mmpose'), (DefaultMMRotateDemoInput, 'mmrotate'),
    (DefaultMMYoloDemoInput, 'mmyolo')])
def test_missing_task_package(demo_input, package) -> None:
    if importlib.util.find_spec(package) is not None:
        pytest.skip(f'{package} is installed')
    name = demo_input.__name__
    with pytest.raises(ImportError, match=rf'{name} needs {package}, which is not '
                                          rf'installed \(pip install {package}\)'):
        TASK_UTILS.build(dict(type=name))
    assert DefaultMMYoloDemoInput.default_shape == (1, 3, 125, 320)
