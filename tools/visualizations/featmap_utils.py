"""What feature_visualization.py and feature_diff_visualization.py share: their drawing
options, loading a model from a config and checkpoint, recording one image's feature
maps, and writing or showing the drawings."""
import argparse
import os.path as osp
from typing import Dict, List, Optional, Tuple

import mmcv
import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint
from mmengine.visualization import Visualizer

from mmrazor.engine.hooks.visualization_hook import (
                                                     CHANNEL_REDUCTIONS,
                                                     check_mappings,
                                                     draw_featmap,
                                                     mapped_featmaps,
                                                     normalize_featmap,
)
from mmrazor.models.algorithms import architecture_of
from mmrazor.models.task_modules.recorder import RecorderManager
from mmrazor.utils import build_model_from_config

REPOS = ('mmpretrain', 'mmcls', 'mmdet', 'mmseg')
# annotations do not exist for a user's image
ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadPanopticAnnotations')


def _channel_reduction(value: str) -> Optional[str]:
    return None if value == 'None' else value


def add_drawing_args(parser: argparse.ArgumentParser) -> None:
    """Add the options both tools take (MMRazor 1.x's names and defaults)."""
    parser.add_argument('--out-file', default=None,
                        help='PNG file to write; several feature maps are written as '
                        '<stem>_<mapping>_<i>.png. Without it they are shown in a window')
    parser.add_argument('--device', default='cpu', help='device used for inference')
    parser.add_argument('--repo', choices=REPOS, default=None,
                        help="the config's package: the default scope its unscoped names "
                        'are built in (defaults to the config\'s default_scope)')
    parser.add_argument('--use-norm', action='store_true',
                        help='standardize each channel before drawing')
    parser.add_argument('--overlaid', action='store_true',
                        help='draw the heatmaps over the image')
    parser.add_argument('--channel-reduction', type=_channel_reduction, default=None,
                        choices=CHANNEL_REDUCTIONS,
                        help='reduce the channels to one map; None draws the topk '
                        'channels in a grid')
    parser.add_argument('--topk', type=int, default=20,
                        help='channels of largest sum drawn when --channel-reduction is '
                        'None (<= 0: the map must have 1 or 3 channels)')
    parser.add_argument('--arrangement', nargs=2, type=int, default=[4, 5],
                        metavar=('ROWS', 'COLS'), help='grid of the topk channels')
    parser.add_argument('--resize-shape', nargs=2, type=int, default=None,
                        metavar=('H', 'W'), help='resize the feature map to H W')
    parser.add_argument('--alpha', type=float, default=0.5,
                        help='weight of the heatmap over the image')


def load_model(config: str, checkpoint: str, device: str = 'cpu',
               repo: Optional[str] = None,
               cfg_options: Optional[dict] = None) -> Tuple[nn.Module, nn.Module, Config]:
    """Build the config's model and load ``checkpoint`` into it.

    Returns:
        Tuple[nn.Module, nn.Module, Config]: The model that predicts (the whole
        algorithm, so that its data preprocessor is used), the model whose modules
        the recorders name (an algorithm's ``architecture``, else the model), and the
        config.
    """
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if repo is not None:
        cfg.default_scope = repo
    if 'teacher_ckpt' in cfg.model:
        # the checkpoint holds the whole algorithm, teacher included
        cfg.model.teacher_ckpt = None
    model = build_model_from_config(cfg)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    model.to(device).eval()
    return model, architecture_of(model), cfg


def _type_name(transform: dict) -> str:
    kind = transform['type']
    return kind if isinstance(kind, str) else kind.__name__


def image_batch(cfg: Config, img: str) -> dict:
    """A one-image batch of ``img`` through the config's test pipeline.

    The pipeline's image loader reads the file; a pipeline without one (a data set
    that holds decoded arrays, like MNIST) gets the file read unchanged (grey stays
    grey).
    """
    if not osp.isfile(img):
        raise FileNotFoundError(f'image {img!r} does not exist')
    dataset = cfg.get('test_dataloader', {}).get('dataset', {})
    pipeline = dataset.get('pipeline', cfg.get('test_pipeline'))
    if pipeline is None:
        raise KeyError('the config has neither test_dataloader.dataset.pipeline nor '
                       'test_pipeline to prepare the image with')
    pipeline = [t for t in pipeline if not _type_name(t).endswith(ANNOTATION_LOADERS)]
    if any(_type_name(t).endswith('LoadImageFromFile') for t in pipeline):
        data = dict(img_path=img)
    else:
        image = mmcv.imread(img, flag='unchanged')
        data = dict(img=image, img_path=img, img_shape=image.shape[:2],
                    ori_shape=image.shape[:2])
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        data = Compose(pipeline)(data)
    return pseudo_collate([data])


def record_featmaps(model: nn.Module, recorded: nn.Module, batch: dict, recorders: dict,
                    mappings: dict) -> Dict[str, List[torch.Tensor]]:
    """Predict on ``batch`` with ``recorders`` on ``recorded``; the mapped feature maps."""
    check_mappings(mappings, recorders)
    manager = RecorderManager(recorders)
    manager.initialize(recorded)
    with torch.no_grad(), manager:
        model.test_step(batch)
    return mapped_featmaps(manager, mappings)


def draw(feat: torch.Tensor, image: Optional[np.ndarray],
         args: argparse.Namespace) -> np.ndarray:
    """Draw the first map of the (N, C, H, W) ``feat`` with the command-line options."""
    if args.use_norm:
        feat = normalize_featmap(feat)
    return draw_featmap(feat[0], image, args.channel_reduction, args.topk,
                        tuple(args.arrangement),
                        tuple(args.resize_shape) if args.resize_shape else None, args.alpha)


def overlaid_image(args: argparse.Namespace) -> Optional[np.ndarray]:
    """The RGB image to draw over, or None without ``--overlaid``."""
    return mmcv.imread(args.img, channel_order='rgb') if args.overlaid else None


def save_or_show(drawings: Dict[str, np.ndarray], out_file: Optional[str]) -> List[str]:
    """Write the RGB ``drawings`` (name -> image) as PNGs, or show them without
    ``out_file``; return the paths written."""
    if out_file is None:
        visualizer = Visualizer.get_instance('mmrazor_feature_visualization')
        for name, image in drawings.items():
            visualizer.show(image, win_name=name)
        return []
    stem, ext = osp.splitext(out_file)
    paths = []
    for name, image in drawings.items():
        path = out_file if len(drawings) == 1 else f'{stem}_{name}{ext or ".png"}'
        mmcv.imwrite(mmcv.rgb2bgr(image), path)
        paths.append(path)
        print(f'saved {path}')
    return paths
