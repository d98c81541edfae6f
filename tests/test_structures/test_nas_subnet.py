"""Subnets of NAS supernets: export the op and value choices, write them as MMRazor's
YAML, load them into a fresh supernet and get the same network."""
import pytest
import torch
import torch.nn as nn
from mmengine import fileio

from mmrazor.models.mutables import OneShotMutableValue
from mmrazor.models.mutators import NasMutator
from mmrazor.structures import export_fix_subnet, load_fix_subnet
from tests.test_models.test_mutators.test_nas_mutator import spos_classifier


class Algorithm(nn.Module):
    """An algorithm-like holder: ``architecture`` + a ``NasMutator``."""

    def __init__(self, architecture: nn.Module) -> None:
        super().__init__()
        self.architecture = architecture
        self.mutator = NasMutator()
        self.mutator.prepare_from_supernet(architecture)


def num_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_export_yaml_load_gives_the_same_network(tmp_path):
    supernet = spos_classifier()
    mutator = NasMutator()
    mutator.prepare_from_supernet(supernet)
    mutator.set_choices({'module_0': 'conv3x3', 'module_1': 'basic'})
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        expected = supernet(x, mode='tensor')

    subnet, static = export_fix_subnet(supernet, slice_weight=True)
    assert subnet == {'layer1': {'chosen': 'conv3x3'}, 'backbone.layer2.1': {'chosen': 'basic'}}
    assert not supernet.backbone.layer1[0].is_fixed  # exporting does not fix the supernet
    path = tmp_path / 'subnet.yaml'
    fileio.dump(subnet, str(path))
    assert 'layer1:\n  chosen: conv3x3\n' in path.read_text()

    fresh = spos_classifier()  # same seed: the same supernet weights
    full = num_params(fresh)
    load_fix_subnet(fresh, str(path))
    blocks = (fresh.backbone.layer1[0], fresh.backbone.layer1[1], fresh.backbone.layer2[1])
    assert [b.choices for b in blocks] == [['conv3x3'], ['conv3x3'], ['basic']]
    assert all(b.is_fixed for b in blocks) and num_params(fresh) < full
    assert not any('conv1x1' in key for key in fresh.state_dict())
    with torch.no_grad():
        assert torch.allclose(fresh(x, mode='tensor'), expected, atol=1e-6)
        assert torch.allclose(static(x, mode='tensor'), expected, atol=1e-6)


def test_algorithm_export_and_prefixed_load():
    algorithm = Algorithm(spos_classifier())
    algorithm.mutator.set_choices({'module_0': 'basic', 'module_1': 'conv1x1'})
    subnet, _ = export_fix_subnet(algorithm)
    assert subnet == {'layer1': {'chosen': 'basic'},
                      'architecture.backbone.layer2.1': {'chosen': 'conv1x1'}}
    fresh = spos_classifier()
    load_fix_subnet(fresh, subnet, prefix='', extra_prefix='architecture.')
    assert fresh.backbone.layer2[1].choices == ['conv1x1']
    back = Algorithm(spos_classifier())
    load_fix_subnet(back, {'layer1': {'chosen': 'basic'},
                           'backbone.layer2.1': {'chosen': 'conv3x3'}}, prefix='architecture.')
    assert back.architecture.backbone.layer2[1].current_choice == 'conv3x3'


def test_bad_subnet_names_key_and_choices_and_fixes_nothing(tmp_path):
    model = spos_classifier()
    blocks = (model.backbone.layer1[0], model.backbone.layer1[1], model.backbone.layer2[1])
    path = tmp_path / 'typo.yaml'
    path.write_text('layer1:\n  chosen: basic\nbackbone.layer2.l:\n  chosen: basic\n')
    with pytest.raises(KeyError, match=r"'backbone.layer2.l' \(did you mean "
                                       r"\['backbone.layer2.1'\]\?\)"):
        load_fix_subnet(model, str(path))
    path.write_text('layer1:\n  chosen: conv7x7\nbackbone.layer2.1:\n  chosen: basic\n')
    with pytest.raises(ValueError, match=r"'conv7x7' for 'layer1'.*not one of its choices "
                                         r"\['basic', 'conv3x3', 'conv1x1'\]"):
        load_fix_subnet(model, str(path))
    assert not any(b.is_fixed for b in blocks)
    assert all(len(b.choices) == 3 for b in blocks)


class Scaled(nn.Module):
    """A searchable value kept only by the mutable derived from it (as a dynamic op
    keeps a kernel size): the subnet names it by the derived mutable's module."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3)
        self.factor = OneShotMutableValue([1, 2, 4]) * 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) * self.factor.current_choice


def test_value_behind_a_derived_mutable_round_trips():
    model = Scaled()
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    assert list(mutator.search_groups) == ['value_0']
    mutator.set_choices({'value_0': 2})
    x = torch.rand(1, 3, 6, 6)
    with torch.no_grad():
        expected = model(x)
    subnet, _ = export_fix_subnet(model)
    assert subnet == {'factor': {'chosen': 2}}
    fresh = Scaled()
    load_fix_subnet(fresh, subnet)
    assert fresh.factor.is_fixed and fresh.factor.current_choice == 4
    with torch.no_grad():
        assert torch.equal(fresh(x), expected)
    with pytest.raises(ValueError, match=r"3 for 'factor'.*choices \[1, 2, 4\]"):
        load_fix_subnet(Scaled(), {'factor': {'chosen': 3}})
