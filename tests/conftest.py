"""Shared test setup: register mmrazor once and give tests small real data."""
import os
import os.path as osp

import pytest
import torch
from mmengine.visualization import Visualizer

from mmrazor.utils import register_all_modules

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FASHION_MNIST_SOURCE = '/usr/share/datasets/fashion-mnist'

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
register_all_modules(init_default_scope=False)


@pytest.fixture(scope='session')
def fashion_mnist_root(tmp_path_factory) -> str:
    """A folder with the extracted Fashion-MNIST idx files (extracted once per run)."""
    if not osp.isdir(FASHION_MNIST_SOURCE):
        pytest.fail('Fashion-MNIST is missing: sudo apt-get install -y '
                    'dataset-fashion-mnist (tools/install.sh does it)')
    return str(tmp_path_factory.mktemp('fashion_mnist'))


@pytest.fixture(autouse=True)
def fresh_visualizers():
    """Forget MMEngine's Visualizers after each test. A Runner takes the Visualizer named
    after its config file and start second if one exists: a Runner of the next test built
    within that second would write into this test's ``tmp_path``, which pytest deletes
    once the test passed (``tmp_path_retention_policy``)."""
    yield
    pending = [Visualizer]
    while pending:
        cls = pending.pop()
        cls._instance_dict.clear()
        pending.extend(cls.__subclasses__())
