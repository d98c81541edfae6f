"""Packaging for mmrazor. Dependencies are read from requirements/*.txt."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_requirements(name: str) -> list:
    """Return the requirement lines of ``requirements/<name>.txt``."""
    lines = (HERE / 'requirements' / f'{name}.txt').read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith('#')]


def read_version() -> str:
    namespace: dict = {}
    exec((HERE / 'mmrazor' / 'version.py').read_text(), namespace)
    return namespace['__version__']


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
