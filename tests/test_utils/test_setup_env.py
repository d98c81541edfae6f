"""register_all_modules and the cost of ``import mmrazor``."""
import subprocess
import sys

from mmengine.registry import DefaultScope

from mmrazor.registry import DATASETS, MODELS
from mmrazor.utils import register_all_modules


def test_register_all_modules_fills_registries_and_sets_scope():
    register_all_modules(init_default_scope=True)
    assert DefaultScope.get_current_instance().scope_name == 'mmrazor'
    assert 'BaseAlgorithm' in MODELS.module_dict
    assert 'OfflineFashionMNIST' in DATASETS.module_dict


def test_import_mmrazor_is_light():
    """``import mmrazor`` must not pull torch or the OpenMMLab stack in."""
    code = ('import sys, mmrazor; heavy = [m for m in ("torch", "mmengine", "mmpretrain")'
            ' if m in sys.modules]; print(heavy)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == '[]'
