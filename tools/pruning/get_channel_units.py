"""Trace a model config and print or save its channel units (what pruning can change).

    python tools/pruning/get_channel_units.py CONFIG [-c] [-i] [--choice]
        [--shape [N] [C] H W] [-o OUT.json]

CONFIG is a plain mmpretrain/mmdet/mmseg config (traced with L1 units in ratio mode and
the FxTracer, as MMRazor does) or a pruning algorithm's config (its own mutator is used).
``--choice`` writes the ``{unit name: 1.0}`` template that ``target_pruning_ratio`` of
``ItePruneAlgorithm`` takes; otherwise the mutator's config template is written, with
each unit's channels (``-c``) and constructor arguments (``-i``).
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch.nn as nn
from mmengine.config import Config

from mmrazor.models.mutators import ChannelMutator
from mmrazor.registry import MODELS, explain_unknown_types
from mmrazor.utils import build_model_from_config, register_all_modules

L1_UNIT_CFG = dict(type='L1MutableChannelUnit', default_args=dict(choice_mode='ratio'))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Get the channel units of a model.')
    parser.add_argument('config', help='config of the model or pruning algorithm')
    parser.add_argument('-c', '--with-channel', action='store_true',
                        help='write the channels of each unit')
    parser.add_argument('-i', '--with-init-args', action='store_true',
                        help='write the constructor arguments of each unit')
    parser.add_argument('--choice', action='store_true',
                        help='write only the {unit: choice} template (-c and -i ignored)')
    parser.add_argument('--shape', type=int, nargs='+', default=None,
                        help='demo input: H W, C H W or N C H W (default: the '
                             "model's demo input, 224x224 RGB for classifiers)")
    parser.add_argument('-o', '--output-path', default='',
                        help='write the JSON here instead of printing it')
    return parser.parse_args(argv)


def demo_input(shape: Optional[Sequence[int]]) -> Dict:
    """The ChannelAnalyzer demo input: the one that fits the model's type, of ``shape``
    if given."""
    cfg: Dict = dict(type='DefaultDemoInput')
    if shape:
        shape = tuple(shape)
        if len(shape) not in (2, 3, 4):
            raise SystemExit(f'--shape takes H W, C H W or N C H W; got {list(shape)}')
        cfg['input_shape'] = {2: (1, 3), 3: (1,), 4: ()}[len(shape)] + shape
    return cfg


def prepared_mutator(model: nn.Module, shape: Optional[Sequence[int]]) -> ChannelMutator:
    """The algorithm's own mutator, or an L1 ratio mutator prepared on ``model``."""
    mutator = getattr(model, 'mutator', None)
    if isinstance(mutator, ChannelMutator):
        return mutator
    if mutator is not None:
        raise TypeError(f'{type(model).__name__} has a {type(mutator).__name__}, not a '
                        'ChannelMutator: it has no channel units')
    mutator = MODELS.build(dict(
        type='mmrazor.ChannelMutator', channel_unit_cfg=L1_UNIT_CFG,
        parse_cfg=dict(type='ChannelAnalyzer', tracer_type='FxTracer',
                       demo_input=demo_input(shape))))
    mutator.prepare_from_supernet(model)
    return mutator


def write_json(content: Dict, path: str) -> None:
    """Write ``content`` to ``path`` through a temporary file: never half-written."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    temp = f'{path}.tmp'
    try:
        with open(temp, 'w') as file:
            json.dump(content, file, indent=4)
        os.replace(temp, path)
    finally:
        if osp.exists(temp):
            os.remove(temp)


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config {args.config} does not exist')
    cfg = Config.fromfile(args.config)
    with explain_unknown_types():
        model = build_model_from_config(cfg)
    mutator = prepared_mutator(model, args.shape)
    if args.choice:
        result = mutator.choice_template
    else:
        result = mutator.config_template(with_unit_init_args=args.with_init_args,
                                         with_channels=args.with_channel)
    if args.output_path:
        write_json(result, args.output_path)
        print(f'wrote {len(mutator.mutable_units)} units to {args.output_path}')
    else:
        print(json.dumps(result, indent=4))
    return result


if __name__ == '__main__':
    main()
