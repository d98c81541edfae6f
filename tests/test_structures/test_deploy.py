"""A pruned model deploys three ways, each reproducing the pruned model's output."""
import copy
import os
import subprocess
import sys
import textwrap

import numpy as np
import onnxruntime
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from mmrazor.models.mutators import ChannelMutator
from mmrazor.structures import deploy_static_model, export_fix_subnet, load_fix_subnet
from mmrazor.structures.subnet.deploy import export_program
from mmrazor.utils import build_model_from_config


class Pruned(nn.Module):
    def __init__(self, architecture: nn.Module) -> None:
        super().__init__()
        self.architecture = architecture
        self.mutator = ChannelMutator(
            channel_unit_cfg=dict(type='L1MutableChannelUnit',
                                  default_args=dict(choice_mode='ratio')),
            parse_cfg=dict(type='ChannelAnalyzer', demo_input=(1, 3, 32, 32)))
        self.mutator.prepare_from_supernet(architecture)
        self.mutator.set_choices({name: 0.5 for name in self.mutator.choice_template})


def classifier() -> nn.Module:
    torch.manual_seed(0)
    return build_model_from_config(Config(dict(model=dict(
        _scope_='mmpretrain', type='ImageClassifier',
        backbone=dict(type='ResNet', depth=18),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=512))))).eval()


def deit() -> nn.Module:
    """Head dims pruned: the static attention's ``head_dims`` are plain ints again."""
    torch.manual_seed(0)
    return build_model_from_config(Config(dict(model=dict(
        _scope_='mmpretrain', type='ImageClassifier',
        backbone=dict(type='VisionTransformer', arch='deit-tiny', img_size=32, patch_size=8),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=192))))).eval()


@pytest.mark.parametrize('build', [classifier, deit])
def test_three_deploy_paths_reproduce_the_pruned_model(tmp_path, build):
    original = build()
    pruned = Pruned(copy.deepcopy(original)).eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        expected = pruned.architecture(x, None, 'tensor')
    subnet, static = export_fix_subnet(pruned, 'mutator', slice_weight=True)
    files = deploy_static_model(static, str(tmp_path), (x,), subnet)
    assert set(files) == {'state_dict', 'subnet', 'torch_export', 'onnx'}

    # (1) config + widths + plain state dict (no pickled modules)
    rebuilt = copy.deepcopy(original)
    load_fix_subnet(rebuilt, files['subnet'], load_subnet_mode='mutator')
    rebuilt.load_state_dict(torch.load(files['state_dict'], weights_only=True))
    with torch.no_grad():
        assert (rebuilt(x, None, 'tensor') - expected).abs().max() <= 1e-5

    # (2) the torch.export program, in a Python where mmrazor cannot be imported
    torch.save({'x': x, 'expected': expected}, tmp_path / 'io.pth')
    script = textwrap.dedent(f"""
        import sys
        sys.modules['mmrazor'] = None  # any 'import mmrazor' now fails
        import torch
        io = torch.load({str(tmp_path / 'io.pth')!r}, weights_only=True)
        program = torch.export.load({files['torch_export']!r})
        out = program.module()(io['x'])
        print(float((out - io['expected']).abs().max()))
    """)
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            env={**os.environ, 'PYTHONPATH': ''}, timeout=300)
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.strip().splitlines()[-1]) <= 1e-5

    # (3) ONNX in onnxruntime
    session = onnxruntime.InferenceSession(files['onnx'])
    (onnx_out,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    assert np.abs(onnx_out - expected.numpy()).max() <= 1e-4
    if build is classifier:
        assert static.backbone.layer1[0].conv1.out_channels == 32
    else:
        assert rebuilt.backbone.layers[0].attn.head_dims == 32
        assert static.backbone.layers[0].attn.head_dims == 32


def test_failed_export_leaves_no_file(tmp_path):
    class Broken(nn.Module):
        def forward(self, x):
            raise RuntimeError('cannot run')

    target = tmp_path / 'model.pt2'
    with pytest.raises(RuntimeError, match='cannot run'):
        export_program(Broken(), (torch.rand(1),), str(target))
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match='valid: state_dict, torch_export, onnx'):
        deploy_static_model(Broken(), str(tmp_path), (torch.rand(1),), formats=['tflite'])
