"""Write an L1-norm pruning config (``ItePruneAlgorithm``) for a model config.

    python tools/pruning/get_l1_prune_config.py CONFIG [--checkpoint CKPT]
        [--subnet CHOICES.json] [--shape [N] [C] H W] [-o prune.py]

The model of CONFIG becomes the ``architecture`` of an ``ItePruneAlgorithm`` with
``L1MutableChannelUnit`` units (ratio mode, FxTracer); ``target_pruning_ratio`` is the
``{unit: choice}`` template (all 1.0: edit it), or ``--subnet``, a JSON/YAML file of
that form (``get_channel_units.py --choice`` writes one), checked against the model.
``--checkpoint`` becomes the architecture's ``Pretrained`` init. Validation runs
``ItePruneValLoop``, which saves the pruned subnet after each validation.
"""
import argparse
import copy
import os
import os.path as osp
import sys
from typing import Dict, List, Optional

from mmengine import fileio
from mmengine.config import Config

from mmrazor.registry import explain_unknown_types
from mmrazor.utils import build_model_from_config, register_all_modules

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from get_channel_units import L1_UNIT_CFG, demo_input, prepared_mutator  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Get the config to prune a model.')
    parser.add_argument('config', help='config of the model')
    parser.add_argument('--checkpoint', default=None, help='weights of the model')
    parser.add_argument('--subnet', default=None,
                        help='JSON/YAML {unit name: choice} to use as the target')
    parser.add_argument('--shape', type=int, nargs='+', default=None,
                        help='demo input for tracing: H W, C H W or N C H W')
    parser.add_argument('-o', default='./prune.py', help='where to write the config')
    return parser.parse_args(argv)


def load_target(path: str) -> Dict[str, float]:
    """The ``{unit: choice}`` mapping stored in ``path``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'--subnet file {path} does not exist')
    target = fileio.load(path)
    if not isinstance(target, dict):
        raise TypeError(f'--subnet {path} must hold a {{unit name: choice}} mapping, got '
                        f'{type(target).__name__}')
    return target


def wrap_prune_config(config: Config, target: Dict[str, float],
                      checkpoint: Optional[str], shape: Optional[List[int]]) -> Config:
    """``config`` with its model wrapped in an L1 ``ItePruneAlgorithm``."""
    config = copy.deepcopy(config)
    architecture = config['model']
    architecture.setdefault('_scope_', config.get('default_scope', 'mmrazor'))
    if checkpoint is not None:
        architecture['init_cfg'] = dict(type='Pretrained', checkpoint=checkpoint)
    if 'data_preprocessor' in config:  # mmpretrain style: move it into the model
        architecture.setdefault('data_preprocessor', config.pop('data_preprocessor'))
    config['model'] = dict(
        _scope_='mmrazor', type='ItePruneAlgorithm', architecture=architecture,
        target_pruning_ratio=target,
        mutator_cfg=dict(type='ChannelMutator', channel_unit_cfg=copy.deepcopy(L1_UNIT_CFG),
                         parse_cfg=dict(type='ChannelAnalyzer', tracer_type='FxTracer',
                                        demo_input=demo_input(shape))),
        step_freq=1, prune_times=1)
    config['val_cfg'] = dict(type='mmrazor.ItePruneValLoop')
    return config


def main(argv: Optional[List[str]] = None) -> Config:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config {args.config} does not exist')
    config = Config.fromfile(args.config)
    with explain_unknown_types():
        model = build_model_from_config(config)
    mutator = prepared_mutator(model, args.shape)
    target = mutator.choice_template
    if args.subnet is not None:
        target = load_target(args.subnet)
        mutator.set_choices(target)  # unknown units or bad choices raise here
    prune_config = wrap_prune_config(config, target, args.checkpoint, args.shape)
    out = args.o if args.o.endswith('.py') else f'{args.o}.py'
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    temp = f'{out[:-3]}.tmp.py'
    try:
        prune_config.dump(temp)
        os.replace(temp, out)
    finally:
        if osp.exists(temp):
            os.remove(temp)
    print(f'wrote the pruning config of {len(target)} units to {out}')
    return prune_config


if __name__ == '__main__':
    main()
