"""Draw |features of model 1 - features of model 2| on one image (MMRazor 1.x's
interface), e.g. a student before and after distillation.

    python tools/visualizations/feature_diff_visualization.py IMG CONFIG1 CONFIG2
        VIS_CONFIG CHECKPOINT1 CHECKPOINT2 [--out-file diff.png] [--device cpu]
        [--repo ...] [--use-norm] [--overlaid] [--channel-reduction ...] [--topk 20]
        [--arrangement 4 5] [--resize-shape H W] [--alpha 0.5]

VIS_CONFIG holds ``recorders1``/``mappings1`` for model 1 and ``recorders2``/
``mappings2`` for model 2; the n-th mapping of one is compared with the n-th of the
other, and the maps must have the same shape. See ``vis_configs/``.
"""
import argparse
import os
from typing import Dict, List, Optional

import featmap_utils as fu
import numpy as np
from mmengine.config import Config

from mmrazor.utils import register_all_modules


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Feature map difference visualization')
    parser.add_argument('img', help='image file')
    parser.add_argument('config1', help='config file of the first model')
    parser.add_argument('config2', help='config file of the second model')
    parser.add_argument('vis_config', help='visualization config file (recorders1, '
                        'mappings1, recorders2, mappings2)')
    parser.add_argument('checkpoint1', help='checkpoint file of the first model')
    parser.add_argument('checkpoint2', help='checkpoint file of the second model')
    fu.add_drawing_args(parser)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def record(config: str, checkpoint: str, recorders: dict, mappings: dict,
           args: argparse.Namespace) -> list:
    """The mapped feature maps of one model on the image, in mapping order."""
    model, recorded, cfg = fu.load_model(config, checkpoint, args.device, args.repo)
    featmaps = fu.record_featmaps(model, recorded, fu.image_batch(cfg, args.img), recorders,
                               mappings)
    return list(featmaps.items())


def main(argv: Optional[List[str]] = None) -> Dict[str, np.ndarray]:
    """Draw the difference of every mapped pair; return the drawings by name."""
    args = parse_args(argv)
    register_all_modules(False)
    vis_cfg = Config.fromfile(args.vis_config)
    if len(vis_cfg.mappings1) != len(vis_cfg.mappings2):
        raise ValueError(f'mappings1 has {len(vis_cfg.mappings1)} entries and mappings2 '
                         f'{len(vis_cfg.mappings2)}; they are compared pairwise, in order')
    featmaps1 = record(args.config1, args.checkpoint1, vis_cfg.recorders1,
                       vis_cfg.mappings1, args)
    featmaps2 = record(args.config2, args.checkpoint2, vis_cfg.recorders2,
                       vis_cfg.mappings2, args)
    image = fu.overlaid_image(args)
    drawings = {}
    for (name1, feats1), (name2, feats2) in zip(featmaps1, featmaps2):
        if len(feats1) != len(feats2):
            raise ValueError(f'model1 {name1!r} selects {len(feats1)} feature map(s) and '
                             f'model2 {name2!r} {len(feats2)}: they must pair up')
        for i, (feat1, feat2) in enumerate(zip(feats1, feats2)):
            if feat1.shape != feat2.shape:
                raise ValueError(f'model1 {name1!r} has shape {tuple(feat1.shape)} and '
                                 f'model2 {name2!r} {tuple(feat2.shape)}: only maps of '
                                 'the same shape can be subtracted')
            diff = (feat1 - feat2).abs()
            drawings[f'model1_{name1}_model2_{name2}_{i}'] = fu.draw(diff, image, args)
    fu.save_or_show(drawings, args.out_file)
    return drawings


if __name__ == '__main__':
    main()
