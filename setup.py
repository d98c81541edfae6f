"""Packaging for mmrazor. Dependencies are read from requirements/*.txt."""
import os
import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).parent
# What MMEngine's ``Config`` reads for ``mmrazor::`` paths: ``<package>/.mim/configs``
# (``_base_`` files) and ``<package>/.mim/model-index.yml`` (named configs), as
# mmpretrain and mmdet ship them. ``tools`` is there for ``mim train mmrazor``.
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_requirements(name: str) -> list:
    """Return the requirement lines of ``requirements/<name>.txt``."""
    lines = (HERE / 'requirements' / f'{name}.txt').read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith('#')]


def read_version() -> str:
    namespace: dict = {}
    exec((HERE / 'mmrazor' / 'version.py').read_text(), namespace)
    return namespace['__version__']


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def link_mim(mim_dir: Path) -> None:
    """Point ``mim_dir/<name>`` at the repository's files (editable installs).

    Relative symlinks, so the checkout can move; a copy where symlinks are not
    allowed (Windows without developer mode).
    """
    mim_dir.mkdir(parents=True, exist_ok=True)
    for name in MIM_FILES:
        source, target = HERE / name, mim_dir / name
        _remove(target)
        try:
            target.symlink_to(os.path.relpath(source, mim_dir))
        except OSError:
            copy_mim_file(source, target)


def copy_mim_file(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target,
                        ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    else:
        shutil.copyfile(source, target)


class BuildPyWithMim(build_py):
    """``build_py`` that also ships configs, tools and model-index.yml in ``.mim``.

    A wheel gets copies inside ``build_lib/mmrazor/.mim``; an editable install
    (``pip install -e .``, where setuptools sets ``editable_mode``) gets symlinks in
    the source package, which the editable finder maps ``mmrazor`` to.
    """

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            link_mim(HERE / 'mmrazor' / '.mim')
            return
        mim_dir = Path(self.build_lib) / 'mmrazor' / '.mim'
        _remove(mim_dir)  # a stale build/ from an earlier wheel
        mim_dir.mkdir(parents=True)
        for name in MIM_FILES:
            copy_mim_file(HERE / name, mim_dir / name)


setup(
    name='mmrazor',
    version=read_version(),
    description='Model compression toolkit (NAS, pruning, KD, quantization) '
    'for the OpenMMLab stack',
    long_description=(HERE / 'README.md').read_text(encoding='utf-8')
    if (HERE / 'README.md').exists() else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    include_package_data=True,
    cmdclass={'build_py': BuildPyWithMim},
    python_requires='>=3.9',
    install_requires=read_requirements('runtime') + [
        'mmengine==0.10.7', 'torch>=2.6'
    ],
    extras_require={
        'mm': read_requirements('mminstall'),
        'torch': read_requirements('torch'),
        'tests': read_requirements('tests'),
        'all': read_requirements('mminstall') + read_requirements('tests'),
    },
    license='Apache License 2.0',
)
