"""torch 2.14: torch.ao's backend configs cannot be built in a fresh process.

``BackendConfig.set_backend_pattern_config`` reads
``torch.ao.quantization.backend_config.utils`` as an attribute of its package, which
exists only once something imported that submodule (``quantize_fx`` does): before that,
``get_native_backend_config()`` and every ``BackendConfig`` with a pattern raise
``AttributeError``. Importing the submodule is the fix.
"""
import importlib


def install_ao_backend_config_fix() -> None:
    """Import the submodule torch's ``BackendConfig`` expects (idempotent)."""
    importlib.import_module('torch.ao.quantization.backend_config.utils')
