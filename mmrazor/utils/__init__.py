"""Utilities: stack fixes, upstream config loading and module registration."""
from .compat import apply_compat_fixes
from .setup_env import register_all_modules
from .upstream import (
                       build_model_from_cfg_path,
                       build_model_from_config,
                       load_upstream_config,
                       resolve_cfg_path,
)

__all__ = ['apply_compat_fixes', 'register_all_modules', 'build_model_from_cfg_path',
           'build_model_from_config', 'load_upstream_config', 'resolve_cfg_path']
