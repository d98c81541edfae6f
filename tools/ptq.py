"""Post-training quantization: calibrate a config's model, save it, test it.

    python tools/ptq.py CONFIG [--ckpt-quant CKPT] [--work-dir DIR] [--out FILE]
        [--cfg-options k=v ...] [--launcher pytorch]

The config's ``test_cfg`` is a ``PTQLoop``: it calibrates the observers on
``calibrate_steps`` batches, saves the calibrated model as
``<work_dir>/<timestamp>/model_ptq.pth`` and tests the quantized model. With
``--ckpt-quant`` a calibrated checkpoint is loaded and only tested.
"""
import argparse
import os
import os.path as osp
from typing import List, Optional

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmrazor.registry import explain_unknown_types
from mmrazor.utils import register_all_modules
from mmrazor.utils.compat import finish_distributed_run

PTQ_LOOPS = ('mmrazor.PTQLoop', 'PTQLoop')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Post-training quantization with mmrazor')
    parser.add_argument('config', help='PTQ config file path')
    parser.add_argument('--ckpt-quant', help='a calibrated (PTQ) checkpoint: test it only')
    parser.add_argument('--work-dir', help='the dir to save logs, metrics and model_ptq.pth')
    parser.add_argument('--out', help='dump the metrics to this JSON/YAML/pickle file')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, e.g. test_cfg.calibrate_steps=8')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_cfg(args: argparse.Namespace) -> Config:
    """The config with the command-line options applied, checked to run a PTQLoop."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    loop = cfg.get('test_cfg') or {}
    if loop.get('type') not in PTQ_LOOPS:
        raise ValueError(f'{args.config}: tools/ptq.py runs test_cfg = dict(type='
                         f"'mmrazor.PTQLoop', calibrate_dataloader=..., calibrate_steps=32), "
                         f'but test_cfg is {dict(loop)!r}; use tools/test.py for other loops')
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.ckpt_quant is not None:
        if not osp.isfile(args.ckpt_quant):
            raise FileNotFoundError(f'--ckpt-quant {args.ckpt_quant} does not exist')
        cfg.load_from = args.ckpt_quant
        cfg.test_cfg.only_val = True
    # mmpretrain-style configs keep the preprocessor at the top level
    if 'data_preprocessor' in cfg and isinstance(cfg.get('model'), dict):
        cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    return cfg


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = build_cfg(args)
    with explain_unknown_types():
        runner = Runner.from_cfg(cfg)
        metrics = runner.test()
    if args.out is not None and runner.rank == 0:
        from mmengine.fileio import dump
        dump(metrics, args.out)
    return metrics


if __name__ == '__main__':
    main()
    finish_distributed_run()  # a gloo run: exit without the finalization that may abort
