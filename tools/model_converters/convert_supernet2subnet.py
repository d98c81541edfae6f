"""Slice a NAS supernet checkpoint into the checkpoint of one subnet.

    python tools/model_converters/convert_supernet2subnet.py CONFIG CHECKPOINT YAML
        [--out SUBNET_CKPT]

Builds the supernet algorithm of CONFIG (e.g. SPOS, BigNAS, OFA), loads CHECKPOINT
(weights only: nothing in the file runs), fixes the subnet of YAML (a
``best_fix_subnet.yaml`` or a shipped ``*_SUBNET*.yaml``; a key the supernet lacks
or a choice outside a mutable's choices is an error, and nothing is written), makes
it static and writes ``{'state_dict': ..., 'meta': {}}`` with the static weights,
keys prefixed ``architecture.`` as the subnet configs' ``init_cfg`` loads them. The
file goes to ``--out``, by default ``subnet_<YYYYmmdd_HHMM>.pth`` beside CHECKPOINT
(MMRazor's name), written to a temporary file first and then renamed.
"""
import argparse
import io
import os
import os.path as osp
import time
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.config import Config, DictAction

from mmrazor.engine.runner.utils.search_state import atomic_write
from mmrazor.registry import explain_unknown_types
from mmrazor.structures import load_fix_subnet
from mmrazor.utils import build_model_from_config, register_all_modules
from mmrazor.utils.weights import load_weights

PREFIX = 'architecture.'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Process a NAS supernet checkpoint to be converted')
    parser.add_argument('config', help='NAS model config file path')
    parser.add_argument('checkpoint', help='supernet checkpoint file path')
    parser.add_argument('yaml', help='YAML with subnet settings file path')
    parser.add_argument('--out', default=None,
                        help='where to write the subnet checkpoint (default: '
                        'subnet_<time>.pth beside the supernet checkpoint)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, as in tools/train.py')
    # MMRazor's launcher arguments, accepted so its commands run unchanged: the
    # conversion itself needs one process only
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher (unused: one process)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args(argv)


def load_supernet_weights(model: nn.Module, checkpoint: str) -> None:
    """Load ``checkpoint`` into ``model``, every key matching."""
    state = load_weights(checkpoint, map_location='cpu')
    state = state.get('state_dict', state)
    what = f"{checkpoint} is not a checkpoint of this config's supernet ({type(model).__name__})"
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as error:  # shapes that differ
        raise ValueError(f'{what}: {error}') from None
    if missing or unexpected:
        raise ValueError(f'{what}: missing keys {missing[:5]}'
                         f'{" ..." if len(missing) > 5 else ""}, unexpected keys '
                         f'{unexpected[:5]}{" ..." if len(unexpected) > 5 else ""}')


def convert(model: nn.Module, fix_subnet: str) -> Dict[str, torch.Tensor]:
    """Fix ``model``'s subnet to ``fix_subnet`` in place; the static weights.

    The YAML's keys name the architecture's modules (``backbone.layers.0.0``), as
    the search writes them and ``sub_model(cfg=supernet, ...)`` reads them.
    """
    architecture = getattr(model, 'architecture', None)
    if isinstance(architecture, nn.Module):
        load_fix_subnet(architecture, fix_subnet)
        state_dict = {PREFIX + k: v for k, v in architecture.state_dict().items()}
    else:
        load_fix_subnet(model, fix_subnet)
        state_dict = model.state_dict()
    # sliced weights may be views of the supernet's: save only what the subnet keeps
    return {key: value.detach().clone() for key, value in state_dict.items()}


def default_out(checkpoint: str) -> str:
    name = f'subnet_{time.strftime("%Y%m%d_%H%M", time.localtime())}.pth'
    return osp.join(osp.dirname(osp.abspath(checkpoint)), name)


def main(argv: Optional[List[str]] = None) -> str:
    """Convert; returns the path written."""
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    for path, what in ((args.config, 'config'), (args.checkpoint, 'checkpoint'),
                       (args.yaml, 'subnet YAML')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} {path} does not exist')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    with explain_unknown_types():
        model = build_model_from_config(cfg)
    load_supernet_weights(model, args.checkpoint)
    state_dict = convert(model, args.yaml)
    out = args.out or default_out(args.checkpoint)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    buffer = io.BytesIO()
    torch.save({'state_dict': state_dict, 'meta': {}}, buffer)
    atomic_write(out, buffer.getvalue())  # never a half-written checkpoint
    print(f'Successfully converted: {len(state_dict)} tensors saved in {out}')
    return out


if __name__ == '__main__':
    main()
