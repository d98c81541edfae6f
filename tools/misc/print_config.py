"""Print the fully merged config (after ``_base_`` inheritance and overrides).

    python tools/misc/print_config.py CONFIG [--cfg-options k=v ...]
"""
import argparse

from mmengine.config import Config, DictAction

from mmrazor.utils import register_all_modules


def main() -> None:
    parser = argparse.ArgumentParser(description='Print the whole config')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config')
    args = parser.parse_args()
    register_all_modules(init_default_scope=False)  # makes mmcls:: bases loadable
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    print(f'Config:\n{cfg.pretty_text}')


if __name__ == '__main__':
    main()
