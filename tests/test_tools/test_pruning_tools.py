"""tools/pruning on a small mmpretrain ResNet-18 config: get_channel_units lists the
units (and a choice template), get_l1_prune_config wraps the model in an L1
ItePruneAlgorithm that prunes what the template says, get_static_model_from_algorithm
exports a static checkpoint that reproduces the pruned algorithm."""
import importlib.util
import json
import os
import os.path as osp
from types import ModuleType

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from mmrazor.structures import export_fix_subnet
from mmrazor.utils import build_model_from_config

from ..conftest import REPO_ROOT

L1 = 'backbone.layer1.0.conv1_(0, 64)_64'
MODEL_CONFIG = """
model = dict(_scope_='mmpretrain', type='ImageClassifier',
             backbone=dict(type='ResNet', depth=18),
             neck=dict(type='GlobalAveragePooling'),
             head=dict(type='LinearClsHead', num_classes=10, in_channels=512))
data_preprocessor = dict(num_classes=10, mean=[0., 0., 0.], std=[1., 1., 1.])
default_scope = 'mmpretrain'
"""


def tool(name: str) -> ModuleType:
    path = osp.join(REPO_ROOT, 'tools', 'pruning', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'pruning_tool_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def model_config(tmp_path) -> str:
    path = tmp_path / 'resnet18.py'
    path.write_text(MODEL_CONFIG)
    return str(path)


def prune_config(tmp_path, model_config: str, target: dict) -> str:
    subnet = tmp_path / 'subnet.json'
    subnet.write_text(json.dumps(target))
    out = str(tmp_path / 'prune.py')
    tool('get_l1_prune_config').main([model_config, '--subnet', str(subnet), '--checkpoint',
                                      'ckpt/resnet18.pth', '--shape', '32', '32', '-o', out])
    return out


def test_get_channel_units_choice_template_and_full_template(tmp_path, model_config, capsys):
    units = tool('get_channel_units')
    out = str(tmp_path / 'choice.json')
    template = units.main([model_config, '--choice', '--shape', '32', '32', '-o', out])
    assert json.load(open(out)) == template
    assert len(template) == 12 and template[L1] == 1.0 and set(template.values()) == {1.0}
    capsys.readouterr()
    full = units.main([model_config, '-c', '-i', '--shape', '32', '32'])
    printed = json.loads(capsys.readouterr().out)
    assert printed == full and full['type'] == 'ChannelMutator'
    unit = full['channel_unit_cfg']['units'][L1]
    assert unit['init_args']['num_channels'] == 64 and unit['choice'] == 1.0
    assert {c['name'] for c in unit['channels']['output_related']} >= {
        'backbone.layer1.0.conv1', 'backbone.layer1.0.bn1'}


def test_get_l1_prune_config_writes_an_algorithm_that_prunes_the_target(
        tmp_path, model_config):
    out = prune_config(tmp_path, model_config, {L1: 0.5})
    cfg = Config.fromfile(out)
    assert cfg.model.type == 'ItePruneAlgorithm' and cfg.model.target_pruning_ratio == {L1: 0.5}
    assert cfg.model.architecture.init_cfg == dict(type='Pretrained',
                                                   checkpoint='ckpt/resnet18.pth')
    assert cfg.model.mutator_cfg.channel_unit_cfg.type == 'L1MutableChannelUnit'
    assert cfg.val_cfg.type == 'mmrazor.ItePruneValLoop'
    algorithm = build_model_from_config(cfg)
    conv = algorithm.architecture.backbone.layer1[0].conv1
    algorithm.train_step(dict(inputs=[torch.zeros(3, 32, 32, dtype=torch.uint8)] * 2,
                              data_samples=[DataSample().set_gt_label(0)] * 2),
                         OptimWrapper(torch.optim.SGD(algorithm.parameters(), lr=0.01)))
    assert conv.get_mutable_attr('out_channels').activated_channels == 32
    # an algorithm config lists the algorithm's own units (unpruned until it trains)
    template = tool('get_channel_units').main([model_config, '--choice', '--shape', '32', '32'])
    assert tool('get_channel_units').main([out, '--choice']) == template


def test_get_l1_prune_config_rejects_unknown_units_and_writes_nothing(tmp_path, model_config):
    with pytest.raises(KeyError, match=r'closest: backbone\.layer1\.0\.conv1_\(0, 64\)_64'):
        prune_config(tmp_path, model_config, {'backbone.layer1.0.conv_(0, 64)_64': 0.5})
    with pytest.raises(ValueError, match=r'in \(0, 1\]'):
        prune_config(tmp_path, model_config, {L1: 2.0})
    assert not [f for f in os.listdir(tmp_path) if f.startswith('prune')]


def test_get_static_model_exports_weights_that_reproduce_the_pruned_model(
        tmp_path, model_config):
    config = prune_config(tmp_path, model_config, {L1: 0.25})
    algorithm = build_model_from_config(Config.fromfile(config))
    algorithm.mutator.set_choices({L1: 0.25})
    torch.save({'state_dict': algorithm.state_dict()}, tmp_path / 'epoch_3.pth')
    out_dir = tmp_path / 'export'
    tool('get_static_model_from_algorithm').main(
        [config, str(tmp_path / 'epoch_3.pth'), '-o', str(out_dir)])
    assert sorted(os.listdir(out_dir)) == ['epoch_3_pruned.json', 'epoch_3_pruned.pth']
    widths = json.load(open(out_dir / 'epoch_3_pruned.json'))
    assert widths == algorithm.mutator.current_choices and widths[L1] == 0.25
    state = torch.load(out_dir / 'epoch_3_pruned.pth', weights_only=True)['state_dict']
    assert state['backbone.layer1.0.conv1.weight'].shape == (16, 64, 3, 3)
    algorithm.eval()
    _, static = export_fix_subnet(algorithm, 'mutator', slice_weight=True)
    static.load_state_dict(state)
    static.eval()
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(static(x), algorithm(x), rtol=0, atol=1e-5)


def test_get_static_model_also_writes_a_torch_export_program(tmp_path, model_config):
    config = prune_config(tmp_path, model_config, {L1: 0.5})
    algorithm = build_model_from_config(Config.fromfile(config))
    algorithm.mutator.set_choices({L1: 0.5})
    torch.save({'state_dict': algorithm.state_dict()}, tmp_path / 'last.pth')
    out_dir = tmp_path / 'export'
    tool('get_static_model_from_algorithm').main(
        [config, str(tmp_path / 'last.pth'), '-o', str(out_dir), '--export', 'torch_export',
         '--shape', '1', '3', '32', '32'])
    program = torch.export.load(str(out_dir / 'pruned_model.pt2'))
    algorithm.eval()
    x = torch.randn(1, 3, 32, 32)
    torch.testing.assert_close(program.module()(x), algorithm(x), rtol=0, atol=1e-5)


def test_get_static_model_refuses_bad_inputs(tmp_path, model_config):
    export = tool('get_static_model_from_algorithm')
    torch.save({'state_dict': {}, 'meta': object()}, tmp_path / 'unsafe.pth')
    config = prune_config(tmp_path, model_config, {L1: 0.5})
    with pytest.raises(Exception, match='weights_only'):
        export.main([config, str(tmp_path / 'unsafe.pth'), '-o', str(tmp_path / 'out')])
    torch.save({'state_dict': {}}, tmp_path / 'empty.pth')
    with pytest.raises(TypeError, match='not a pruning algorithm'):
        export.main([model_config, str(tmp_path / 'empty.pth'), '-o', str(tmp_path / 'out')])
    with pytest.raises(FileNotFoundError, match='checkpoint .*missing.pth does not exist'):
        export.main([config, str(tmp_path / 'missing.pth')])
    assert not osp.exists(tmp_path / 'out')
