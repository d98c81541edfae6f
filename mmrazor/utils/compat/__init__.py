"""Every fix mmrazor makes to the upstream stack, in one visible place.

Each fix is narrow, idempotent and has a test that fails once the upstream bug is
gone (``tests/test_utils/test_compat.py``), so it can then be deleted.

* :mod:`.checkpoint` - MMEngine 0.10 checkpoints on torch >= 2.6 (``weights_only``), and
  checkpoint URLs resolved offline (:mod:`mmrazor.utils.weights`).
* :mod:`.mmcls` - MMRazor 1.x configs name mmcls, whose successor is mmpretrain.
* :mod:`.distributed` - MMEngine's pytorch launcher assumes CUDA; we train on gloo/CPU.
* :mod:`.editable_install` - MMEngine misses ``pkg::`` configs of editable installs.
* :mod:`.fake_quant_export` - torch cannot export fake-quantization with a dynamic batch.
* :mod:`.ao_backend_config` - torch.ao's ``BackendConfig`` needs a submodule nobody imports.
"""
from .ao_backend_config import install_ao_backend_config_fix
from .checkpoint import install_checkpoint_loaders
from .distributed import allow_cpu_distributed, finish_distributed_run
from .editable_install import locate_editable_packages
from .fake_quant_export import install_fake_quant_export_fix
from .mmcls import MMCLS_RENAMED, install_mmcls_alias

__all__ = ['apply_compat_fixes', 'install_checkpoint_loaders', 'install_mmcls_alias',
           'allow_cpu_distributed', 'finish_distributed_run', 'locate_editable_packages',
           'MMCLS_RENAMED', 'install_fake_quant_export_fix',
           'install_ao_backend_config_fix']


def apply_compat_fixes() -> None:
    """Apply all fixes (cheap to call again)."""
    install_checkpoint_loaders()
    install_mmcls_alias()
    allow_cpu_distributed()
    locate_editable_packages()
    install_fake_quant_export_fix()
    install_ao_backend_config_fix()
