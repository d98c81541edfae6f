"""Demo inputs: random batches shaped like real ones, to run a model without its data.

The resource estimators (FLOPs, params, latency) run a model once on such a batch.
The upstream task packages are imported only when a demo input of theirs is used, so
``import mmrazor`` does not import mmdet, mmseg or mmpose.
"""
import importlib.util
import math
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn

from mmrazor.models.algorithms.base import architecture_of
from mmrazor.registry import TASK_UTILS

Shape = Tuple[int, ...]
DemoData = Union[torch.Tensor, Dict[str, Any]]
NUM_DEMO_BOXES = 3
DEMO_SEED = 0


def find_num_classes(model: nn.Module, heads: Sequence[str], default: int = 1) -> int:
    """The ``num_classes`` of the first of ``heads`` (dotted names) that ``model`` has.

    A head held in a ``ModuleList`` (cascade stages) counts by its last stage.
    """
    for name in heads:
        head: Any = model
        for part in name.split('.'):
            head = getattr(head, part, None)
            if isinstance(head, nn.ModuleList) and len(head):
                head = head[-1]
        if isinstance(getattr(head, 'num_classes', None), int):
            return head.num_classes
    return default


@TASK_UTILS.register_module()
class BaseDemoInput:
    """A random float tensor of ``input_shape``, used as ``model(x)``.

    Demo inputs are random but the same on every call (a fixed seed, the caller's
    random state untouched), so estimates of one model are reproducible.

    Args:
        input_shape (Sequence[int], optional): The batch shape. Defaults to None,
            meaning the class's ``default_shape``.
        training (bool, optional): Build a training batch (data preprocessors then
            run their training-time steps). Defaults to None, meaning False.
        kwargs (dict, optional): Extra items of the returned dict, for the subclasses
            that return one (e.g. ``dict(mode='loss')``). Defaults to None.
    """

    default_shape: Shape = (1, 3, 224, 224)

    def __init__(self,
                 input_shape: Optional[Sequence[int]] = None,
                 training: Optional[bool] = None,
                 kwargs: Optional[Dict[str, Any]] = None) -> None:
        self.input_shape = self.check_shape(
            self.default_shape if input_shape is None else input_shape)
        self.training = bool(training)
        self.kwargs = dict(kwargs or {})

    def check_shape(self, input_shape: Sequence[int]) -> Shape:
        """Return ``input_shape`` as a tuple; subclasses refuse shapes they cannot use."""
        return tuple(input_shape)

    def get_data(self,
                 model: Optional[nn.Module] = None,
                 input_shape: Optional[Sequence[int]] = None,
                 training: Optional[bool] = None) -> DemoData:
        """Build a demo input for ``model``.

        Args:
            model (nn.Module, optional): The model to run. Defaults to None.
            input_shape (Sequence[int], optional): Defaults to None, meaning the
                instance's ``input_shape``.
            training (bool, optional): Defaults to None, meaning the instance's
                ``training``.
        """
        shape = self.input_shape if input_shape is None else self.check_shape(input_shape)
        # The same batch every time, without touching the caller's random state: a
        # detector's proposals, and so its FLOPs, depend on the image.
        numpy_state = np.random.get_state()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(DEMO_SEED)
            np.random.seed(DEMO_SEED)
            try:
                return self._get_data(model, shape,
                                      self.training if training is None else training)
            finally:
                np.random.set_state(numpy_state)

    __call__ = get_data

    def _get_data(self, model: Optional[nn.Module], input_shape: Optional[Shape],
                  training: bool) -> DemoData:
        param = next(model.parameters(), None) if model is not None else None
        if param is None:
            return torch.rand(input_shape)
        return torch.rand(input_shape, device=param.device, dtype=param.dtype)


@TASK_UTILS.register_module()
class DefaultMMDemoInput(BaseDemoInput):
    """``{'inputs': tensor, 'data_samples': None, 'mode': 'tensor'}`` for any MMEngine
    ``BaseModel``, used as ``model(**data)``; ``kwargs`` update the dict last."""

    def _get_data(self, model: Optional[nn.Module], input_shape: Optional[Shape],
                  training: bool) -> Dict[str, Any]:
        data = self._get_mm_data(model, input_shape, training)
        return {**data, 'mode': 'tensor', **self.kwargs}

    def _get_mm_data(self, model: Optional[nn.Module], input_shape: Optional[Shape],
                     training: bool) -> Dict[str, Any]:
        return {'inputs': super()._get_data(model, input_shape, training),
                'data_samples': None}


class ImageTaskDemoInput(DefaultMMDemoInput):
    """Raw images and data samples of one upstream task package, run through the
    model's own ``data_preprocessor``, so the batch is what the model gets in a real
    run. For an algorithm (a model with an ``architecture``), the data samples follow
    the architecture and the algorithm's preprocessor runs: use ``algorithm(**data)``.
    """

    package = ''  # the import name of the upstream package
    distribution = ''  # its pip name

    def __init__(self,
                 input_shape: Optional[Sequence[int]] = None,
                 training: Optional[bool] = None,
                 kwargs: Optional[Dict[str, Any]] = None) -> None:
        if importlib.util.find_spec(self.package) is None:
            raise ImportError(f'{type(self).__name__} needs {self.package}, which is not '
                              f'installed (pip install {self.distribution})')
        super().__init__(input_shape, training, kwargs)

    def check_shape(self, input_shape: Sequence[int]) -> Shape:
        """Refuse a shape that is not ``(N, C, H, W)`` with positive sizes."""
        shape = tuple(input_shape)
        if len(shape) != 4 or not all(isinstance(size, int) and size > 0 for size in shape):
            raise ValueError(f'{type(self).__name__} needs input_shape (N, C, H, W) of '
                             f'4 positive ints, e.g. {self.default_shape}, but got {shape}')
        return shape

    def _get_mm_data(self, model: Optional[nn.Module], input_shape: Optional[Shape],
                     training: bool) -> Dict[str, Any]:
        preprocessor = getattr(model, 'data_preprocessor', None)
        if not callable(preprocessor):
            raise TypeError(f'{type(self).__name__} needs an MMEngine model with a '
                            f'data_preprocessor, but got {type(model).__name__}')
        images, samples = self.raw_batch(model, input_shape)
        return preprocessor(dict(inputs=images, data_samples=samples), training)

    def raw_batch(self, model: nn.Module, input_shape: Shape) -> Tuple[List, List]:
        """Random uint8 images ``(C, H, W)`` and their data samples, as a loader gives.

        Args:
            model (nn.Module): The model (or algorithm) the batch is for.
            input_shape (tuple): ``(N, C, H, W)``.
        """
        num, channels, height, width = input_shape
        architecture = architecture_of(model)
        images = [torch.randint(0, 256, (channels, height, width), dtype=torch.uint8)
                  for _ in range(num)]
        samples = [self.data_sample(architecture, index, height, width)
                   for index in range(num)]
        return images, samples

    def data_sample(self, architecture: nn.Module, index: int, height: int,
                    width: int) -> Any:
        """The data sample of image ``index`` of size ``(height, width)``."""
        raise NotImplementedError


@TASK_UTILS.register_module()
class DefaultMMClsDemoInput(ImageTaskDemoInput):
    """A preprocessed mmpretrain batch: each sample has ``img_shape`` and a gt label."""

    package = 'mmpretrain'
    distribution = 'mmpretrain'

    def data_sample(self, architecture: nn.Module, index: int, height: int,
                    width: int) -> Any:
        from mmpretrain.structures import DataSample
        num_classes = find_num_classes(architecture, ['head'])
        label = int(torch.randint(num_classes, ()))
        # num_classes in the meta: preprocessors with batch augments make one-hot labels
        return DataSample(metainfo=dict(img_shape=(height, width), num_classes=num_classes)
                          ).set_gt_label(label)


@TASK_UTILS.register_module()
class DefaultMMDetDemoInput(ImageTaskDemoInput):
    """A preprocessed mmdet batch: image meta, a few random gt boxes (and masks when
    the detector has a mask head) and empty ignored instances."""

    package = 'mmdet'
    distribution = 'mmdet'
    bbox_heads = ['bbox_head', 'roi_head.bbox_head', 'rpn_head']

    def data_sample(self, architecture: nn.Module, index: int, height: int,
                    width: int) -> Any:
        from mmdet.structures import DetDataSample
        from mmengine.structures import InstanceData
        sample = DetDataSample(metainfo=dict(
            img_id=index, img_path=None, ori_shape=(height, width),
            img_shape=(height, width), pad_shape=(height, width),
            scale_factor=(1.0, 1.0), flip=False, flip_direction=None))
        xyxy = random_xyxy_boxes(NUM_DEMO_BOXES, height, width)
        num_classes = find_num_classes(architecture, self.bbox_heads)
        gt = InstanceData(bboxes=self.to_boxes(xyxy),
                          labels=torch.randint(num_classes, (NUM_DEMO_BOXES, )))
        if getattr(architecture, 'with_mask', False):
            from mmdet.structures.mask import BitmapMasks
            gt.masks = BitmapMasks(box_masks(xyxy, height, width), height, width)
        sample.gt_instances = gt
        sample.ignored_instances = InstanceData(
            bboxes=self.to_boxes(torch.zeros(0, 4)),
            labels=torch.zeros(0, dtype=torch.long))
        return sample

    def to_boxes(self, xyxy: torch.Tensor) -> Any:
        """The gt boxes the task's heads take, from ``(n, 4)`` xyxy boxes."""
        return xyxy


def random_xyxy_boxes(num: int, height: int, width: int) -> torch.Tensor:
    """``num`` boxes ``(x1, y1, x2, y2)`` inside the image, each 10-50 % of its size."""
    size = torch.tensor([width, height]) * (0.1 + 0.4 * torch.rand(num, 2))
    top_left = (torch.tensor([width, height]) - size) * torch.rand(num, 2)
    return torch.cat([top_left, top_left + size], dim=1)


def box_masks(xyxy: torch.Tensor, height: int, width: int) -> np.ndarray:
    """``(n, height, width)`` uint8 masks, each filling its box."""
    masks = np.zeros((len(xyxy), height, width), dtype=np.uint8)
    for mask, (x1, y1, x2, y2) in zip(masks, xyxy.long().tolist()):
        mask[y1:y2 + 1, x1:x2 + 1] = 1
    return masks


@TASK_UTILS.register_module()
class DefaultMMSegDemoInput(ImageTaskDemoInput):
    """A preprocessed mmseg batch: image meta and a random ``gt_sem_seg``."""

    package = 'mmseg'
    distribution = 'mmsegmentation'

    def data_sample(self, architecture: nn.Module, index: int, height: int,
                    width: int) -> Any:
        from mmengine.structures import PixelData
        from mmseg.structures import SegDataSample
        sample = SegDataSample(metainfo=dict(
            ori_shape=(height, width), img_shape=(height, width),
            pad_shape=(height, width), padding_size=[0, 0, 0, 0]))
        num_classes = find_num_classes(architecture, ['decode_head'])
        sample.gt_sem_seg = PixelData(data=torch.randint(num_classes, (1, height, width)))
        return sample


# mmrotate, mmyolo and mmpose are not installed in mmrazor's test environment: the
# three classes below are written from their 1.x / 0.x APIs but not run by any test.


@TASK_UTILS.register_module()
class DefaultMMRotateDemoInput(DefaultMMDetDemoInput):
    """An mmdet batch whose gt boxes are mmrotate ``RotatedBoxes`` (cx, cy, w, h, a)."""

    package = 'mmrotate'
    distribution = 'mmrotate'

    def to_boxes(self, xyxy: torch.Tensor) -> Any:
        from mmrotate.structures.bbox import RotatedBoxes

        # angles in (0, pi/4) are valid in all of mmrotate's conventions (oc, le90, le135)
        angles = (0.05 + torch.rand(len(xyxy), 1) * (math.pi / 4 - 0.1))
        centers = (xyxy[:, :2] + xyxy[:, 2:]) / 2
        sizes = xyxy[:, 2:] - xyxy[:, :2]
        return RotatedBoxes(torch.cat([centers, sizes, angles], dim=1))


@TASK_UTILS.register_module()
class DefaultMMYoloDemoInput(DefaultMMDetDemoInput):
    """An mmdet batch for mmyolo detectors (MMRazor's default shape for them)."""

    package = 'mmyolo'
    distribution = 'mmyolo'
    default_shape = (1, 3, 125, 320)

    def _get_mm_data(self, model: Optional[nn.Module], input_shape: Optional[Shape],
                     training: bool) -> Dict[str, Any]:
        from mmyolo.models.data_preprocessors import YOLOv5DetDataPreprocessor
        preprocessor = getattr(model, 'data_preprocessor', None)
        if not (training and isinstance(preprocessor, YOLOv5DetDataPreprocessor)):
            return super()._get_mm_data(model, input_shape, training)
        # mmyolo's training preprocessor takes a stacked batch and all gt boxes packed
        # as rows (image index, label, x1, y1, x2, y2), as its yolov5_collate packs them
        images, samples = self.raw_batch(model, input_shape)
        rows = [torch.cat([torch.full((NUM_DEMO_BOXES, 1), float(index)),
                           sample.gt_instances.labels[:, None].float(),
                           sample.gt_instances.bboxes], dim=1)
                for index, sample in enumerate(samples)]
        return preprocessor(dict(inputs=torch.stack(images),
                                 data_samples=dict(bboxes_labels=torch.cat(rows))), True)


@TASK_UTILS.register_module()
class DefaultMMPoseDemoInput(ImageTaskDemoInput):
    """A preprocessed mmpose top-down batch: each sample has the crop meta
    (input_size, input_center, input_scale) and one instance with random keypoints.

    It serves the 'tensor' and 'predict' modes; 'loss' also needs the targets that the
    head's codec encodes in the data pipeline (heatmaps, keypoint weights).
    """

    package = 'mmpose'
    distribution = 'mmpose'

    def data_sample(self, architecture: nn.Module, index: int, height: int,
                    width: int) -> Any:
        from mmengine.structures import InstanceData
        from mmpose.structures import PoseDataSample
        head = getattr(architecture, 'head', None)
        num_keypoints = getattr(head, 'out_channels', None)
        num_keypoints = num_keypoints if isinstance(num_keypoints, int) else 17  # COCO
        sample = PoseDataSample(metainfo=dict(
            img_id=index, img_path=None, ori_shape=(height, width),
            img_shape=(height, width), input_size=(width, height),
            input_center=np.array([width / 2, height / 2], dtype=np.float32),
            input_scale=np.array([width, height], dtype=np.float32),
            flip_indices=list(range(num_keypoints))))
        keypoints = np.random.rand(1, num_keypoints, 2) * np.array([width, height])
        sample.gt_instances = InstanceData(
            bboxes=np.array([[0, 0, width, height]], dtype=np.float32),
            bbox_scores=np.ones(1, dtype=np.float32),
            keypoints=keypoints.astype(np.float32),
            keypoints_visible=np.ones((1, num_keypoints), dtype=np.float32))
        return sample
