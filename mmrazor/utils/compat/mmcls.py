"""Run MMRazor 1.x configs written for mmcls 1.x on mmpretrain, its successor.

mmcls 1.x cannot be installed beside mmcv 2.1 (see docs/en/get_started.md); mmpretrain
is the same project renamed. Three aliases make old configs run unchanged:

* config paths: ``mmcls::resnet/resnet18_8xb32_in1k.py`` and ``_base_ = ['mmcls::...']``
  load mmpretrain's file of the same path;
* registry scope: ``_scope_='mmcls'``, ``default_scope='mmcls'`` and
  ``type='mmcls.ResNet'`` find mmpretrain's registries; renamed classes are mapped by
  :data:`MMCLS_RENAMED`;
* Python modules: ``mmcls.models.heads.ClsHead`` (recorder sources, tracer skip lists)
  imports ``mmpretrain.models.heads.ClsHead``.
"""
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType
from typing import Dict, Optional

from mmengine.registry import Registry

ALIAS = 'mmcls'
TARGET = 'mmpretrain'
# mmcls 1.x names that mmpretrain registers under another name.
MMCLS_RENAMED: Dict[str, str] = {
    'PackClsInputs': 'PackInputs',
    'ClsVisualizer': 'UniversalVisualizer',
}
_installed = False


class _ModuleAliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import ``mmcls[.x]`` as the already-importable ``mmpretrain[.x]`` module."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname == ALIAS or fullname.startswith(ALIAS + '.'):
            real = TARGET + fullname[len(ALIAS):]
            if importlib.util.find_spec(real) is None:
                return None
            is_pkg = importlib.util.find_spec(real).submodule_search_locations is not None
            return importlib.machinery.ModuleSpec(fullname, self, is_package=is_pkg)
        return None

    def create_module(self, spec) -> ModuleType:
        module = importlib.import_module(TARGET + spec.name[len(ALIAS):])
        self._real_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # importlib overwrote __spec__ with the alias spec: give the module its own back.
        module.__spec__ = self._real_spec


class ScopeAliasRegistry(Registry):
    """A registry of scope ``mmcls`` that resolves names in mmpretrain's registry."""

    def __init__(self, target: Registry, renamed: Dict[str, str]) -> None:
        super().__init__(target.name, build_func=target.build_func,
                         parent=target.parent, scope=ALIAS)
        self._target = target
        self._renamed = renamed
        self._imported = True  # the target imports its own locations

    def get(self, key: str) -> Optional[type]:
        scope, real_key = self.split_scope_key(key)
        if scope is None or scope == ALIAS:
            return self._target.get(self._renamed.get(real_key, real_key))
        return self._target.get(key)

    @property
    def module_dict(self) -> dict:
        return self._target.module_dict


def install_mmcls_alias() -> None:
    """Install the three aliases if mmpretrain is installed (cheap to call again)."""
    global _installed
    if _installed or importlib.util.find_spec(TARGET) is None:
        return
    from mmengine.config import utils as config_utils
    config_utils.MODULE2PACKAGE[ALIAS] = TARGET
    sys.meta_path.insert(0, _ModuleAliasFinder())
    registries = importlib.import_module(f'{TARGET}.registry')
    for registry in vars(registries).values():
        if (isinstance(registry, Registry) and registry.scope == TARGET
                and registry.parent is not None
                and ALIAS not in registry.parent.children):
            ScopeAliasRegistry(registry, MMCLS_RENAMED)
    _installed = True
