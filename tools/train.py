"""Train a model (an mmrazor algorithm or a plain upstream model) from a config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmrazor.registry import explain_unknown_types
from mmrazor.utils import register_all_modules
from mmrazor.utils.compat import finish_distributed_run


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model with mmrazor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest one in the '
        'work dir when no path is given')
    parser.add_argument('--amp', action='store_true',
                        help='enable automatic mixed precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate by the total batch size')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, e.g. train_cfg.max_epochs=2')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line options to the config."""
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        # with SeparateOptimWrapperConstructor these top-level settings apply to every
        # sub-wrapper, so each of them trains with AMP
        wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper_type not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise ValueError(f'--amp replaces optim_wrapper.type with AmpOptimWrapper, '
                             f'but the config uses the custom type {wrapper_type!r}; '
                             "valid types with --amp are ['OptimWrapper', "
                             "'AmpOptimWrapper']")
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise KeyError('--auto-scale-lr needs "auto_scale_lr = dict('
                           'base_batch_size=...)" in the config')
        cfg.auto_scale_lr.enable = True
    # mmpretrain-style configs keep the preprocessor at the top level
    if 'data_preprocessor' in cfg and isinstance(cfg.get('model'), dict):
        cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    return cfg


def main() -> None:
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = merge_args(Config.fromfile(args.config), args)
    with explain_unknown_types():
        runner = Runner.from_cfg(cfg)
        runner.train()


if __name__ == '__main__':
    main()
    finish_distributed_run()  # a gloo run: exit without the finalization that may abort
