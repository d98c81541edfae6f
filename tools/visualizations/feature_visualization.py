"""Draw the feature maps a model computes on one image (MMRazor 1.x's interface).

    python tools/visualizations/feature_visualization.py IMG CONFIG VIS_CONFIG CHECKPOINT
        [--out-file out.png] [--device cpu] [--repo mmpretrain|mmcls|mmdet|mmseg]
        [--use-norm] [--overlaid]
        [--channel-reduction squeeze_mean|select_max|pixel_wise_max|None]
        [--topk 20] [--arrangement 4 5] [--resize-shape H W] [--alpha 0.5]
        [--cfg-options k=v ...]

VIS_CONFIG holds ``recorders`` (name -> recorder config, sources are module names of
the model, or of an algorithm's ``architecture``) and ``mappings`` (name ->
``dict(recorder=..., data_idx=...)``); see ``vis_configs/``.
"""
import argparse
import os
from typing import Dict, List, Optional

import featmap_utils as fu
import numpy as np
from mmengine.config import Config, DictAction

from mmrazor.utils import register_all_modules


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Feature map visualization')
    parser.add_argument('img', help='image file')
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('vis_config', help='visualization config file (recorders, mappings)')
    parser.add_argument('checkpoint', help='checkpoint file of the model')
    fu.add_drawing_args(parser)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override settings of the model config, e.g. '
                        'model.backbone.init_cfg=None')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv: Optional[List[str]] = None) -> Dict[str, np.ndarray]:
    """Draw every mapped feature map; return the drawings by name."""
    args = parse_args(argv)
    register_all_modules(False)
    model, recorded, cfg = fu.load_model(args.config, args.checkpoint, args.device,
                                      args.repo, args.cfg_options)
    vis_cfg = Config.fromfile(args.vis_config)
    featmaps = fu.record_featmaps(model, recorded, fu.image_batch(cfg, args.img),
                               vis_cfg.recorders, vis_cfg.mappings)
    image = fu.overlaid_image(args)
    drawings = {f'{name}_{i}': fu.draw(feat, image, args)
                for name, feats in featmaps.items() for i, feat in enumerate(feats)}
    fu.save_or_show(drawings, args.out_file)
    return drawings


if __name__ == '__main__':
    main()
