"""Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package, read by mmpretrain.

The package installs the original gzipped idx files under
``/usr/share/datasets/fashion-mnist``. mmpretrain's ``FashionMNIST`` reads the
extracted idx files and would try to download them when missing; this subclass
extracts the Debian archives into ``data_root`` once instead, and never downloads.
"""
import gzip
import os
import os.path as osp
import shutil
import tempfile
from typing import List

import mmengine.dist as dist
from mmpretrain.datasets import FashionMNIST

from mmrazor.registry import DATASETS

DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist'
INSTALL_HINT = ('Install the data set with `sudo apt-get install -y '
                'dataset-fashion-mnist` (Debian package, 31 MB, no download at run '
                'time), or point `source_root` at a folder holding the four '
                '*-ubyte.gz files.')


@DATASETS.register_module()
class OfflineFashionMNIST(FashionMNIST):
    """mmpretrain's ``FashionMNIST`` fed from local archives, never downloaded.

    Args:
        data_root (str): Folder for the extracted idx files (written once).
            Defaults to ``'data/fashion_mnist'``.
        source_root (str): Folder with the gzipped idx files. Defaults to Debian's
            ``/usr/share/datasets/fashion-mnist``.
        **kwargs: Passed to mmpretrain's ``FashionMNIST`` (``split``, ``pipeline``,
            ``indices``, ``test_mode``, ...). ``split='test'`` reads the 10k test
            images (it implies ``test_mode=True``). ``download`` is always False.
    """

    def __init__(self,
                 data_root: str = 'data/fashion_mnist',
                 source_root: str = DEBIAN_FASHION_MNIST,
                 **kwargs) -> None:
        if kwargs.pop('download', False):
            raise ValueError('OfflineFashionMNIST never downloads; ' + INSTALL_HINT)
        # mmpretrain 1.2's MNIST reads the test files only when test_mode is set and
        # ignores split='test': make the split choose the files.
        if kwargs.get('split') == 'test':
            kwargs.setdefault('test_mode', True)
        self.source_root = source_root
        super().__init__(data_root=data_root, download=False, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Extract the archives if needed (main process only), then load."""
        if dist.is_main_process():
            self._extract_archives()
        dist.barrier()
        return super().load_data_list()

    def _extract_archives(self) -> None:
        target_root = self.data_prefix['root']
        for archive, _ in self.train_list + self.test_list:
            target = osp.join(target_root, archive[:-len('.gz')])
            if osp.isfile(target):
                continue
            source = osp.join(self.source_root, archive)
            if not osp.isfile(source):
                raise FileNotFoundError(
                    f'Fashion-MNIST file {archive} is neither extracted in '
                    f'{target_root} nor archived in {self.source_root}. ' + INSTALL_HINT)
            os.makedirs(target_root, exist_ok=True)
            # Write to a temporary file and rename, so an interrupted run never
            # leaves a truncated idx file behind.
            fd, tmp = tempfile.mkstemp(dir=target_root, suffix='.part')
            with gzip.open(source, 'rb') as src, os.fdopen(fd, 'wb') as dst:
                shutil.copyfileobj(src, dst)
            os.replace(tmp, target)
