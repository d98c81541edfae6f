"""``tools/model_converters/convert_supernet2subnet.py`` on real checkpoints on disk: a
tiny SPOS supernet trained an epoch in a Runner and a tiny BigNAS supernet with random
weights and statistics. The converted checkpoint, loaded into the static subnet the
subnet config (``sub_model`` + ``init_cfg``) builds, gives the supernet's output with
that subnet chosen; a YAML with a bad choice or key, or a checkpoint of another
model, is a clear error and leaves no output file."""
import glob
import importlib.util
import os.path as osp
import random
from typing import Tuple

import pytest
import torch
import torch.nn as nn
import yaml
from mmengine.config import Config
from mmengine.runner import Runner, save_checkpoint

from mmrazor.models.architectures.dynamic_ops import DynamicMixin
from mmrazor.registry import MODELS
from mmrazor.structures import convert_fix_subnet, export_fix_subnet
from mmrazor.utils import build_model_from_config

from ..conftest import REPO_ROOT
from ..test_engine.spos_search_helpers import runner_cfg, tiny_supernet
from ..test_models.test_algorithms.test_bignas import bignas_cfg
from ..test_models.test_architectures.test_searchable_shufflenet import one_thread  # noqa: F401

TOOL = osp.join(REPO_ROOT, 'tools', 'model_converters', 'convert_supernet2subnet.py')
_spec = importlib.util.spec_from_file_location('convert_supernet2subnet', TOOL)
convert_supernet2subnet = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(convert_supernet2subnet)

SPOS_MODEL = dict(type='mmrazor.SPOS', architecture=tiny_supernet(),
                  mutator=dict(type='mmrazor.NasMutator'))


def write_config(path: str, model: dict) -> str:
    with open(path, 'w') as file:
        file.write(f"default_scope = 'mmrazor'\nmodel = {model!r}\n")
    return path


@pytest.fixture(scope='module')
def spos(tmp_path_factory, fashion_mnist_root) -> Tuple[str, str]:
    """``(config, checkpoint)``: the SPOS supernet after one Runner epoch (the
    Runner's own checkpoint, with its meta and message hub)."""
    work_dir = str(tmp_path_factory.mktemp('spos_supernet'))
    Runner.from_cfg(runner_cfg(
        work_dir, fashion_mnist_root, dict(by_epoch=True, max_epochs=1),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)))).train()
    return (write_config(osp.join(work_dir, 'spos.py'), SPOS_MODEL),
            osp.join(work_dir, 'epoch_1.pth'))


@pytest.fixture(scope='module')
def bignas(tmp_path_factory) -> Tuple[str, str]:
    """``(config, checkpoint)``: a BigNAS supernet with random weights and batch-norm
    statistics (so that every slice and statistic matters)."""
    work_dir = str(tmp_path_factory.mktemp('bignas_supernet'))
    torch.manual_seed(0)
    model = MODELS.build(bignas_cfg())
    with torch.no_grad():
        for name, value in model.state_dict().items():
            if value.is_floating_point():
                value.uniform_(0.5, 1.5) if name.endswith('running_var') else \
                    value.normal_(0, 0.2)
    ckpt = osp.join(work_dir, 'supernet.pth')
    save_checkpoint({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    return write_config(osp.join(work_dir, 'bignas.py'), bignas_cfg()), ckpt


def supernet_with_random_subnet(config: str, ckpt: str, yaml_path: str,
                                seed: int) -> nn.Module:
    """The supernet of ``config`` with ``ckpt`` loaded and a random subnet chosen,
    that subnet written to ``yaml_path`` as the search writes it."""
    model = build_model_from_config(Config.fromfile(config))
    convert_supernet2subnet.load_supernet_weights(model, ckpt)
    random.seed(seed)
    model.mutator.set_choices(model.mutator.sample_choices())
    fix_subnet = convert_fix_subnet(export_fix_subnet(model.architecture)[0])
    with open(yaml_path, 'w') as file:
        yaml.safe_dump(fix_subnet, file, sort_keys=False)
    return model.eval()


def _model_cfg(config: str) -> dict:
    return Config.fromfile(config).model.to_dict()


def static_subnet(config: str, yaml_path: str, subnet_ckpt: str) -> nn.Module:
    """What a subnet config builds: ``sub_model`` of the supernet's architecture
    with the converted checkpoint as ``init_cfg``."""
    subnet = MODELS.build(dict(
        type='mmrazor.sub_model', cfg=_model_cfg(config)['architecture'],
        fix_subnet=yaml_path,
        init_cfg=dict(type='Pretrained', checkpoint=subnet_ckpt, prefix='architecture.')))
    subnet.init_weights()
    return subnet.eval()


@pytest.mark.parametrize('space', ['spos', 'bignas'])
@pytest.mark.parametrize('seed', [0, 1])
def test_converted_subnet_gives_the_supernets_output(space, seed, request, tmp_path):
    config, ckpt = request.getfixturevalue(space)
    yaml_path, out = str(tmp_path / 'subnet.yaml'), str(tmp_path / 'out' / 'subnet.pth')
    model = supernet_with_random_subnet(config, ckpt, yaml_path, seed)
    assert convert_supernet2subnet.main([config, ckpt, yaml_path, '--out', out]) == out
    state = torch.load(out, weights_only=True)['state_dict']
    assert all(key.startswith('architecture.') for key in state)
    subnet = static_subnet(config, yaml_path, out)
    assert not any(isinstance(m, DynamicMixin) for m in subnet.modules())
    assert len(state) == len(subnet.state_dict())
    # the slices: smaller than the supernet's tensors, equal to the loaded ones
    for key, value in subnet.state_dict().items():
        assert torch.equal(value, state['architecture.' + key])
    assert sum(v.numel() for v in state.values()) < sum(
        v.numel() for v in model.architecture.state_dict().values())
    inputs = torch.rand(3, 3, 28, 28)
    with torch.no_grad():
        expected = model(inputs, mode='tensor')
        assert (subnet(inputs, mode='tensor') - expected).abs().max() <= 1e-5


def test_default_output_is_mmrazors_file_name_beside_the_checkpoint(spos, tmp_path):
    config, ckpt = spos
    yaml_path, ckpt_copy = str(tmp_path / 'subnet.yaml'), str(tmp_path / 'supernet.pth')
    supernet_with_random_subnet(config, ckpt, yaml_path, 0)
    with open(ckpt, 'rb') as src, open(ckpt_copy, 'wb') as dst:
        dst.write(src.read())
    out = convert_supernet2subnet.main([config, ckpt_copy, yaml_path, '--launcher', 'none'])
    assert glob.glob(str(tmp_path / 'subnet_*.pth')) == [out]
    assert osp.basename(out)[len('subnet_'):-len('.pth')].replace('_', '').isdigit()
    assert torch.load(out, weights_only=True)['meta'] == {}


def _edit_yaml(path: str, edit) -> None:
    with open(path) as file:
        subnet = yaml.safe_load(file)
    edit(subnet)
    with open(path, 'w') as file:
        yaml.safe_dump(subnet, file)


def test_bad_yaml_or_checkpoint_is_an_error_and_writes_nothing(spos, bignas, tmp_path):
    config, ckpt = spos
    yaml_path, out = str(tmp_path / 'subnet.yaml'), str(tmp_path / 'subnet.pth')
    supernet_with_random_subnet(config, ckpt, yaml_path, 0)
    first = 'backbone.layers.0.0'
    _edit_yaml(yaml_path, lambda s: s[first].update(chosen='shuffle_9x9'))
    with pytest.raises(ValueError, match=r"'shuffle_9x9'.*backbone\.layers\.0\.0.*shuffle_3x3"):
        convert_supernet2subnet.main([config, ckpt, yaml_path, '--out', out])
    _edit_yaml(yaml_path, lambda s: s.update({'backbone.layers.9.9': s.pop(first)}))
    with pytest.raises(KeyError, match=r'backbone\.layers\.9\.9.*did you mean'):
        convert_supernet2subnet.main([config, ckpt, yaml_path, '--out', out])
    supernet_with_random_subnet(config, ckpt, yaml_path, 0)
    with pytest.raises(ValueError, match='is not a checkpoint of this config'):
        convert_supernet2subnet.main([config, bignas[1], yaml_path, '--out', out])
    with pytest.raises(FileNotFoundError, match='subnet YAML .*missing.yaml does not exist'):
        convert_supernet2subnet.main([config, ckpt, str(tmp_path / 'missing.yaml')])
    assert sorted(p.name for p in tmp_path.iterdir()) == ['subnet.yaml']
