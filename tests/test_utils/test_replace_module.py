"""``replace_module`` puts a new module at a dotted name."""
import pytest
import torch.nn as nn

from mmrazor.utils.lookup import replace_module


def test_replace_module_by_dotted_name():
    model = nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 1), nn.ReLU()), nn.Linear(2, 2))
    old = model[0][1]
    new = nn.GELU()
    assert replace_module(model, '0.1', new) is old
    assert model[0][1] is new
    with pytest.raises(KeyError, match="No module '0.7'"):
        replace_module(model, '0.7', nn.ReLU())
    with pytest.raises(ValueError, match="'' is the model itself"):
        replace_module(model, '', nn.ReLU())
