"""mmrazor.utils.lookup: finding modules, parameters and objects by name."""
import json

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.models.algorithms.base import BaseAlgorithm
from mmrazor.utils.lookup import (
    ImportPathError,
    closest_names,
    get_module,
    get_parameter,
    import_object,
)


class Head(nn.Module):

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)


class ImageClassifier(nn.Module):

    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU())
        self.head = Head()


@pytest.fixture
def model() -> ImageClassifier:
    return ImageClassifier()


def test_get_module_finds_dotted_names_and_the_model_itself(model):
    assert get_module(model, 'head.fc') is model.head.fc
    assert get_module(model, 'backbone.0') is model.backbone[0]
    assert get_module(model, '') is model


def test_get_module_error_names_the_missing_name_and_closest(model):
    with pytest.raises(KeyError) as info:
        get_module(model, 'head.fcc')
    assert str(info.value).startswith("No module 'head.fcc' in ImageClassifier; "
                                      'closest: head.fc')
    with pytest.raises(KeyError, match="No module 'fc' in ImageClassifier; closest: head.fc"):
        get_module(model, 'fc')
    with pytest.raises(KeyError, match=r"No module 'head.fc.weight'.*closest: head\.fc"):
        get_module(model, 'head.fc.weight')  # a parameter, not a module


def test_get_module_error_without_similar_names_lists_valid_ones(model):
    with pytest.raises(KeyError, match='no similar name; valid names include: backbone'):
        get_module(model, 'zzz')


def test_get_parameter(model):
    assert get_parameter(model, 'head.fc.weight') is model.head.fc.weight
    assert get_parameter(model, 'backbone.0.bias') is model.backbone[0].bias
    with pytest.raises(KeyError, match="No parameter 'head.fc.weigth' in ImageClassifier; "
                                       'closest: head.fc.weight'):
        get_parameter(model, 'head.fc.weigth')


def test_closest_names_prefers_similar_then_suffix_and_caps_the_count():
    assert closest_names('fc', ['head.fc', 'neck.conv']) == ['head.fc']  # by suffix
    names = ['head.fc', 'neck.fc', 'fc1', 'a.fc', 'b.fc', 'c.fc', 'd.fc']
    close = closest_names('fc', names)
    assert close[0] == 'fc1' and len(close) == 5 and set(close) <= set(names)
    assert closest_names('xyz', names) == []


def test_closest_names_options_for_registry_names():
    names = ['ResNet', 'mmpretrain.ResNet', 'mmdet.ResNet', 'mmpretrain.ResNeXt', 'VGG']
    assert closest_names('RESNET', names) == []  # case matters by default
    # similar names first, then those ending in '.resnet'
    assert closest_names('RESNET', names, ignore_case=True) == [
        'ResNet', 'mmdet.ResNet', 'mmpretrain.ResNet']
    # a name in another scope finds every scope's same-named entry
    assert closest_names('mmseg.resnet', names, ignore_case=True, last_component=True) == [
        'ResNet', 'mmpretrain.ResNet', 'mmdet.ResNet', 'mmpretrain.ResNeXt']
    assert closest_names('Resnet', names, n=1, ignore_case=True,
                         last_component=True) == ['ResNet']


def test_import_object_returns_owner_name_and_object():
    assert import_object('torch.nn.functional.relu') == (F, 'relu', F.relu)
    owner, name, obj = import_object('mmrazor.models.algorithms.base.BaseAlgorithm.loss')
    assert (owner, name, obj) == (BaseAlgorithm, 'loss', BaseAlgorithm.loss)
    assert import_object('json.decoder') == (json, 'decoder', json.decoder)
    assert import_object('torch.nn.Linear')[2] is torch.nn.Linear


def test_import_object_imports_submodules_not_imported_by_their_package():
    owner, name, obj = import_object('xml.dom.minidom.parseString')
    assert owner.__name__ == 'xml.dom.minidom' and name == 'parseString'
    assert callable(obj)


@pytest.mark.parametrize('path, message', [
    ('torch.nn.functionl.relu',
     r"Cannot import 'torch.nn.functionl.relu': module 'torch.nn' has no attribute "
     r"'functionl'; closest: functional"),
    ('mmrazor.models.algorithms.base.BaseAlgorithm.los',
     r"class 'mmrazor.models.algorithms.base.BaseAlgorithm' has no attribute 'los'; "
     r'closest: loss'),
    ('torchh.nn', r"no module named 'torchh'; closest: torch"),
    ('relu', r"'relu' is not a dotted path"),
    ('torch..relu', r"'torch..relu' is not a dotted path"),
])
def test_import_object_errors_name_the_failing_part_and_closest(path, message):
    with pytest.raises(ImportError, match=message) as info:
        import_object(path)
    assert isinstance(info.value, ImportPathError)


def test_import_object_propagates_real_import_errors(tmp_path, monkeypatch):
    (tmp_path / 'lookup_broken_mod.py').write_text('import lookup_missing_dependency\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match='lookup_missing_dependency') as info:
        import_object('lookup_broken_mod.func')
    assert not isinstance(info.value, ImportPathError)
