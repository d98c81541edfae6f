"""Export the static pruned model of a pruning algorithm's checkpoint.

    python tools/pruning/get_static_model_from_algorithm.py CONFIG CHECKPOINT [-o DIR]
        [--export torch_export onnx --shape 1 3 224 224]

Builds the algorithm of CONFIG (e.g. an ``ItePruneAlgorithm``), loads CHECKPOINT
(weights only: nothing in the file runs), then writes to DIR (default
``work_dirs/<config name>``):

* ``<checkpoint name>_pruned.pth``: ``{'state_dict': ...}`` of the static architecture,
  every pruned layer cut to its kept channels (loads into the deploy config, e.g.
  ``GroupFisherDeploySubModel`` with the JSON below as ``fix_subnet``);
* ``<checkpoint name>_pruned.json``: ``{unit name: choice}``, the pruned widths;
* with ``--export``: ``pruned_model.pt2`` (a ``torch.export`` program: load it with
  ``torch.export.load(path).module()``, no mmrazor needed) and/or ``pruned_model.onnx``
  (runs in onnxruntime), traced on a random input of ``--shape``.

The kept channels come from the checkpoint (``ItePruneAlgorithm`` stores them); a
checkpoint without them is pruned to the config's ``target_pruning_ratio`` by the
units' own criterion (L1 norm) on the loaded weights.
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.runner.checkpoint import load_state_dict

from mmrazor.models.mutators import ChannelMutator
from mmrazor.registry import explain_unknown_types
from mmrazor.structures import deploy_static_model, export_fix_subnet
from mmrazor.utils import build_model_from_config, register_all_modules
from mmrazor.utils.weights import load_weights


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Export a pruned model checkpoint.')
    parser.add_argument('config', help='config of the pruning algorithm')
    parser.add_argument('checkpoint', help='checkpoint of the pruning algorithm')
    parser.add_argument('-o', default='', help='output folder')
    parser.add_argument('--export', nargs='*', default=[], choices=['torch_export', 'onnx'],
                        help='also write these deploy files')
    parser.add_argument('--shape', type=int, nargs='+', default=[1, 3, 224, 224],
                        help='input shape for --export (default: 1 3 224 224)')
    return parser.parse_args(argv)


def save_paths(config: str, checkpoint: str, out_dir: str) -> Tuple[str, str]:
    out_dir = out_dir or osp.join('work_dirs', osp.splitext(osp.basename(config))[0])
    name = osp.splitext(osp.basename(checkpoint))[0] + '_pruned'
    return osp.join(out_dir, name + '.pth'), osp.join(out_dir, name + '.json')


def load_pruned_algorithm(config: Config, checkpoint: str) -> nn.Module:
    """The algorithm of ``config`` with ``checkpoint`` loaded and its pruning applied."""
    with explain_unknown_types():
        algorithm = build_model_from_config(config)
    mutator = getattr(algorithm, 'mutator', None)
    if not isinstance(mutator, ChannelMutator):
        raise TypeError(f'{type(algorithm).__name__} is not a pruning algorithm (it has no '
                        'ChannelMutator `mutator`); give the config of e.g. '
                        'ItePruneAlgorithm')
    state = load_weights(checkpoint, map_location='cpu')
    state = state.get('state_dict', state)
    load_state_dict(algorithm, state, strict=False)
    if '_extra_state' not in state and getattr(algorithm, 'target_pruning_ratio', None):
        print('the checkpoint stores no kept channels: pruning to target_pruning_ratio')
        mutator.set_choices(algorithm.target_pruning_ratio)
    return algorithm


def write_atomically(items: Dict[str, object]) -> None:
    """Write every ``{path: content}`` (JSON-able or torch) to temporary files first,
    then rename them all: no half-written output on error."""
    temps = {path: f'{path}.tmp' for path in items}
    try:
        for path, content in items.items():
            os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
            if path.endswith('.json'):
                with open(temps[path], 'w') as file:
                    json.dump(content, file, indent=4)
            else:
                torch.save(content, temps[path])
        for path, temp in temps.items():
            os.replace(temp, path)
    finally:
        for temp in temps.values():
            if osp.exists(temp):
                os.remove(temp)


def main(argv: Optional[List[str]] = None) -> Tuple[nn.Module, Dict]:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    for what, path in (('config', args.config), ('checkpoint', args.checkpoint)):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} {path} does not exist')
    algorithm = load_pruned_algorithm(Config.fromfile(args.config), args.checkpoint)
    structure = algorithm.mutator.choice_template
    algorithm.eval()
    _, static_model = export_fix_subnet(algorithm, 'mutator', slice_weight=True)
    weight_path, json_path = save_paths(args.config, args.checkpoint, args.o)
    write_atomically({weight_path: {'state_dict': static_model.state_dict()},
                      json_path: structure})
    print(f'wrote the pruned model to {weight_path} and its widths to {json_path}')
    if args.export:
        files = deploy_static_model(static_model, osp.dirname(weight_path),
                                    (torch.rand(*args.shape),), formats=args.export)
        print('wrote ' + ', '.join(files.values()))
    return static_model, structure


if __name__ == '__main__':
    main()
