"""``pkg::`` config paths of packages installed with ``pip install -e .``.

MMEngine 0.10.7 finds ``<package>/.mim`` through ``get_installed_path``, which joins
the distribution's location with the package name. For an editable install made by
pip >= 21.3 / setuptools >= 64 (PEP 660) the location is ``site-packages``, where the
package is not: the import system reaches it through an editable finder. So every
``_base_ = ['mmrazor::...']`` in an editable checkout failed with FileNotFoundError
on ``site-packages/mmrazor/.mim/model-index.yml``. When the joined path does not exist
we answer the directory the package is actually imported from.
"""
import functools
import importlib.util
import os.path as osp

_applied = False


def locate_editable_packages() -> None:
    """Make MMEngine's ``Config`` find ``.mim`` of editable installs (idempotent)."""
    global _applied
    if _applied:
        return
    from mmengine.config import config as config_module
    from mmengine.utils.package_utils import package2module

    site_packages_path = config_module.get_installed_path

    @functools.wraps(site_packages_path)
    def get_installed_path(package: str) -> str:
        path = site_packages_path(package)
        if osp.isdir(path):
            return path
        spec = importlib.util.find_spec(package2module(package))
        if spec is None or spec.origin is None:
            return path
        return osp.dirname(spec.origin)

    config_module.get_installed_path = get_installed_path
    _applied = True
