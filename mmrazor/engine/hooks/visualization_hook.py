"""``RazorVisualizationHook``: draw recorded feature maps during training.

The drawing helpers here (:func:`normalize_featmap`, :func:`draw_featmap`,
:func:`mapped_featmaps`) are shared with ``tools/visualizations/``.
"""
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import master_only
from mmengine.fileio import get as get_file
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.utils import mkdir_or_exist
from mmengine.visualization import Visualizer

from mmrazor.models.task_modules.recorder import RecorderManager
from mmrazor.registry import HOOKS
from mmrazor.utils.lookup import NameLookupError

CHANNEL_REDUCTIONS = ('squeeze_mean', 'select_max', 'pixel_wise_max', None)
# MMRazor 1.x's defaults of the hook's visualization_cfg (those of draw_featmap)
DEFAULT_VISUALIZATION_CFG = dict(channel_reduction='pixel_wise_max', topk=20,
                                 arrangement=(4, 5), resize_shape=None, alpha=0.5)


def normalize_featmap(feat: torch.Tensor) -> torch.Tensor:
    """Standardize each channel of ``feat`` over batch and space (zero mean, unit std).

    Args:
        feat (torch.Tensor): Feature maps of shape (N, C, H, W).

    Returns:
        torch.Tensor: The standardized maps, same shape.
    """
    if feat.dim() != 4:
        raise ValueError(f'use_norm needs feature maps of shape (N, C, H, W), got shape '
                         f'{tuple(feat.shape)}')
    mean = feat.mean(dim=(0, 2, 3), keepdim=True)
    std = feat.std(dim=(0, 2, 3), keepdim=True)
    return (feat - mean) / (std + 1e-6)


def check_channel_reduction(channel_reduction: Optional[str]) -> None:
    """Raise a ValueError unless ``channel_reduction`` is one of :data:`CHANNEL_REDUCTIONS`."""
    if channel_reduction not in CHANNEL_REDUCTIONS:
        raise ValueError(f'channel_reduction must be one of {CHANNEL_REDUCTIONS}, got '
                         f'{channel_reduction!r}')


def draw_featmap(featmap: torch.Tensor,
                 overlaid_image: Optional[np.ndarray] = None,
                 channel_reduction: Optional[str] = 'pixel_wise_max',
                 topk: int = 20,
                 arrangement: Tuple[int, int] = (4, 5),
                 resize_shape: Optional[Tuple[int, int]] = None,
                 alpha: float = 0.5) -> np.ndarray:
    """Draw one feature map as an RGB heatmap, with MMEngine's ``Visualizer.draw_featmap``.

    On top of MMEngine's drawing, ``'pixel_wise_max'`` reduces the channels to their
    maximum at each pixel, and a map drawn over an image of another aspect ratio is
    first cropped to that ratio: the network's input was padded on the bottom/right
    (e.g. to a size divisor), and only the unpadded part covers the image.

    Args:
        featmap (torch.Tensor): The map, of shape (C, H, W).
        overlaid_image (np.ndarray, optional): RGB (or grey) image to draw over.
            Defaults to None.
        channel_reduction (str, optional): 'squeeze_mean', 'select_max',
            'pixel_wise_max', or None to draw the ``topk`` channels of largest sum in
            a grid. Defaults to 'pixel_wise_max'.
        topk (int): Channels drawn when ``channel_reduction`` is None. Defaults to 20.
        arrangement (Tuple[int, int]): Rows and columns of that grid. Defaults to
            (4, 5).
        resize_shape (Tuple[int, int], optional): (H, W) to resize the map (and the
            image) to. Defaults to None.
        alpha (float): Weight of the heatmap over the image. Defaults to 0.5.

    Returns:
        np.ndarray: The RGB image, uint8 of shape (H, W, 3).
    """
    check_channel_reduction(channel_reduction)
    if not isinstance(featmap, torch.Tensor) or featmap.dim() != 3:
        shape = tuple(featmap.shape) if isinstance(featmap, torch.Tensor) else type(featmap)
        raise ValueError(f'draw_featmap needs one feature map of shape (C, H, W), got {shape}')
    featmap = featmap.detach().float().cpu()
    if overlaid_image is not None and resize_shape is None:
        featmap = _fit_to_image(featmap, overlaid_image.shape[:2])
    if channel_reduction == 'pixel_wise_max':
        # a single channel is drawn by MMEngine as an image (topk <= 0)
        featmap, channel_reduction, topk = featmap.amax(dim=0, keepdim=True), None, 0
    return Visualizer.draw_featmap(featmap, overlaid_image, channel_reduction, topk,
                                   tuple(arrangement),
                                   tuple(resize_shape) if resize_shape else None, alpha)


def _fit_to_image(featmap: torch.Tensor, image_hw: Tuple[int, int]) -> torch.Tensor:
    """Crop ``featmap`` to the aspect ratio of the image, then resize it to the image."""
    if tuple(featmap.shape[1:]) == tuple(image_hw):
        return featmap
    feat_h, feat_w = featmap.shape[1:]
    img_h, img_w = image_hw
    if feat_h / feat_w > img_h / img_w:
        feat_h = max(1, round(feat_w * img_h / img_w))
    else:
        feat_w = max(1, round(feat_h * img_w / img_h))
    featmap = featmap[:, :feat_h, :feat_w]
    return F.interpolate(featmap[None], (img_h, img_w), mode='bilinear',
                         align_corners=False)[0]


def check_mappings(mappings: Dict[str, dict], recorders: Dict[str, dict]) -> None:
    """Raise a clear error unless every mapping names a recorder of ``recorders``."""
    if not isinstance(mappings, dict) or not mappings:
        raise ValueError('mappings must be a non-empty dict of name -> dict(recorder=..., '
                         f'data_idx=...), got {mappings!r}')
    for name, mapping in mappings.items():
        if not isinstance(mapping, dict) or 'recorder' not in mapping:
            raise ValueError(f'mapping {name!r} must be a dict with a "recorder" key (and '
                             f'optional "record_idx", "data_idx"), got {mapping!r}')
        if mapping['recorder'] not in recorders:
            raise NameLookupError(f'mapping {name!r} names recorder {mapping["recorder"]!r}; the '
                                  f'recorders are {sorted(recorders)}')


def mapped_featmaps(manager: RecorderManager,
                    mappings: Dict[str, dict]) -> Dict[str, List[torch.Tensor]]:
    """The feature maps each mapping selects from the last recorded forward.

    Args:
        manager (RecorderManager): The recorders, after a forward in their context.
        mappings (Dict[str, dict]): Name -> ``dict(recorder, record_idx=0,
            data_idx=None)``, as :meth:`BaseRecorder.get_record_data` takes them.

    Returns:
        Dict[str, List[torch.Tensor]]: Name -> the selected (N, C, H, W) maps: one, or
        one per item when the selection is a tuple or list (e.g. a whole FPN output).
    """
    featmaps = {}
    for name, mapping in mappings.items():
        recorder = manager.get_recorder(mapping['recorder'])
        record = recorder.get_record_data(mapping.get('record_idx', 0),
                                          mapping.get('data_idx'))
        feats = list(record) if isinstance(record, (tuple, list)) else [record]
        for feat in feats:
            if not isinstance(feat, torch.Tensor) or feat.dim() != 4:
                got = tuple(feat.shape) if isinstance(feat, torch.Tensor) else type(feat)
                raise ValueError(
                    f'mapping {name!r} selects {got} from {recorder!r}; only feature maps '
                    'of shape (N, C, H, W) can be drawn (use data_idx to pick one item of '
                    'a tuple output)')
        featmaps[name] = feats
    return featmaps


@HOOKS.register_module()
class RazorVisualizationHook(Hook):
    """Draw recorded feature maps of chosen val images before training and every
    ``interval`` epochs.

    Recorders are built as a distiller's are and their sources are module names of
    the (unwrapped) runner model: for a distillation algorithm,
    ``'architecture.backbone.layer2'`` is in the student and
    ``'teacher.backbone.layer2'`` in the teacher, which runs after the student on the
    same preprocessed image. The model is put in eval mode while drawing.

    Each drawn map goes to the runner visualizer's backends (``LocalVisBackend`` writes
    ``<log_dir>/vis_data/vis_image/data_idx_<i>_<mapping>_<k>_<epochs done>.png``),
    unless ``show`` (display only) or ``out_dir`` (PNG files there) is set.

    Args:
        recorders (dict): Name -> recorder config, e.g.
            ``dict(type='ModuleOutputs', source='backbone.layer2')``.
        mappings (Dict[str, dict]): Name -> ``dict(recorder=..., record_idx=0,
            data_idx=None)``: which record to draw.
        enabled (bool): Whether to draw at all. Defaults to False.
        data_idx (int | Sequence[int]): Indices of the val dataset images to draw.
            Defaults to 0.
        interval (int): Draw every ``interval`` epochs. Defaults to 1.
        show (bool): Display the drawings instead of storing them in the visualizer's
            backends. Defaults to False.
        wait_time (float): Seconds each displayed image stays. Defaults to 0.1.
        out_dir (str, optional): Write the PNGs here instead (relative to the run's
            log dir). Defaults to None.
        file_client_args (dict, optional): Arguments of the storage backend reading
            the images (MMEngine ``backend_args``); None is ``dict(backend='disk')``.
            Defaults to None.
        is_overlaid (bool): Draw the heatmaps over the image. Defaults to True.
        visualization_cfg (dict, optional): Arguments of :func:`draw_featmap`, over
            ``dict(channel_reduction='pixel_wise_max', topk=20, arrangement=(4, 5),
            resize_shape=None, alpha=0.5)``. Defaults to None.
        use_norm (bool): Standardize each channel before drawing. Defaults to False.

    Example:
        >>> custom_hooks = [dict(
        ...     type='mmrazor.RazorVisualizationHook', enabled=True,
        ...     recorders=dict(s=dict(type='ModuleOutputs',
        ...                           source='architecture.backbone.layer2'),
        ...                    t=dict(type='ModuleOutputs',
        ...                           source='teacher.backbone.layer2')),
        ...     mappings=dict(student=dict(recorder='s'), teacher=dict(recorder='t')))]
    """

    priority = 'LOW'

    def __init__(self,
                 recorders: dict,
                 mappings: dict,
                 enabled: bool = False,
                 data_idx: Union[int, Sequence[int]] = 0,
                 interval: int = 1,
                 show: bool = False,
                 wait_time: float = 0.1,
                 out_dir: Optional[str] = None,
                 # MMRazor 1.x's defaults, kept so configs mean the same; never mutated
                 file_client_args: Optional[dict] = dict(backend='disk'),  # noqa: B006
                 is_overlaid: bool = True,
                 visualization_cfg: Optional[dict] = dict(  # noqa: B006
                     channel_reduction='pixel_wise_max', topk=20, arrangement=(4, 5),
                     resize_shape=None, alpha=0.5),
                 use_norm: bool = False) -> None:
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'interval must be a positive int, got {interval!r}')
        unknown = set(visualization_cfg or {}) - set(DEFAULT_VISUALIZATION_CFG)
        if unknown:
            raise TypeError(f'visualization_cfg has unknown key(s) {sorted(unknown)}; the '
                            f'valid keys are {list(DEFAULT_VISUALIZATION_CFG)}')
        self.visualization_cfg = {**DEFAULT_VISUALIZATION_CFG, **(visualization_cfg or {})}
        check_channel_reduction(self.visualization_cfg['channel_reduction'])
        check_mappings(mappings, recorders)
        self.enabled = enabled
        self.data_idx = [data_idx] if isinstance(data_idx, int) else list(data_idx)
        self.interval = interval
        self.show = show
        self.wait_time = wait_time
        self.out_dir = out_dir
        # MMEngine renamed the 'disk' file client backend 'local'
        self.backend_args = {k: ('local' if k == 'backend' and v == 'disk' else v)
                             for k, v in (file_client_args or dict(backend='disk')).items()}
        self.is_overlaid = is_overlaid
        self.use_norm = use_norm
        self.recorder_manager = RecorderManager(recorders)
        self.mappings = mappings

    def before_run(self, runner) -> None:
        # even when disabled, so that a wrong source fails at once
        self.recorder_manager.initialize(self._model(runner))

    def before_train(self, runner) -> None:
        if self.enabled:
            self.visualize(runner, epochs_done=runner.epoch)

    def after_train_epoch(self, runner) -> None:
        if self.enabled and self.every_n_epochs(runner, self.interval):
            self.visualize(runner, epochs_done=runner.epoch + 1)

    @staticmethod
    def _model(runner) -> nn.Module:
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    @master_only
    def visualize(self, runner, epochs_done: int) -> None:
        """Draw the mapped feature maps of each ``data_idx`` image and store them.

        Args:
            runner (Runner): The runner.
            epochs_done (int): Epochs trained so far; the images' step.
        """
        loop = runner.val_loop or runner.test_loop
        if loop is None:
            raise RuntimeError('RazorVisualizationHook draws val (or test) images, but the '
                               'runner has no val_dataloader or test_dataloader')
        dataloader = loop.dataloader
        for idx in self.data_idx:
            if not 0 <= idx < len(dataloader.dataset):
                raise IndexError(f'data_idx {idx} is out of range: the '
                                 f'{type(dataloader.dataset).__name__} has '
                                 f'{len(dataloader.dataset)} images')
            self._record(runner, dataloader.collate_fn([dataloader.dataset[idx]]))
            image = self._image(dataloader.dataset.get_data_info(idx))
            for name, feats in mapped_featmaps(self.recorder_manager, self.mappings).items():
                for i, feat in enumerate(feats):
                    if self.use_norm:
                        feat = normalize_featmap(feat)
                    drawn = draw_featmap(feat[0], image, **self.visualization_cfg)
                    self._store(runner, f'data_idx_{idx}_{name}_{i}', drawn, epochs_done)

    @torch.no_grad()
    def _record(self, runner, batch: dict) -> None:
        """Predict on ``batch`` (student, then any teacher) with the recorders on."""
        model = self._model(runner)
        was_training = model.training
        model.eval()
        try:
            data = model.data_preprocessor(batch, False)
            with self.recorder_manager:
                model(**data, mode='predict')
                teacher = getattr(model, 'teacher', None)
                if isinstance(teacher, nn.Module):
                    teacher(**data, mode='predict')
        finally:
            model.train(was_training)

    def _image(self, data_info: dict) -> Optional[np.ndarray]:
        """The RGB image to draw over, or None when not overlaid."""
        if not self.is_overlaid:
            return None
        if 'img_path' in data_info:
            return mmcv.imfrombytes(get_file(data_info['img_path'],
                                             backend_args=self.backend_args),
                                    channel_order='rgb')
        if isinstance(data_info.get('img'), np.ndarray):
            # in-memory data sets (e.g. MNIST) keep the decoded image: grey or BGR
            img = data_info['img']
            return img if img.ndim == 2 else mmcv.bgr2rgb(img)
        warnings.warn('RazorVisualizationHook: the data info has no "img_path" or "img" '
                      'to draw over, so the feature maps are drawn alone', stacklevel=2)
        return None

    def _store(self, runner, name: str, image: np.ndarray, step: int) -> None:
        if self.show:
            runner.visualizer.show(image, win_name=name, wait_time=self.wait_time)
        if self.out_dir is not None:
            out_dir = osp.join(runner.log_dir, self.out_dir)
            mkdir_or_exist(out_dir)
            mmcv.imwrite(mmcv.rgb2bgr(image), osp.join(out_dir, f'{name}_{step}.png'))
        elif not self.show:
            runner.visualizer.add_image(name, image, step=step)
