"""StopDistillHook argument checks (its effect is tested end to end in test_tools)."""
import pytest

from mmrazor.registry import HOOKS


def test_stop_epoch_must_be_non_negative():
    with pytest.raises(ValueError, match='stop_epoch must be >= 0'):
        HOOKS.build(dict(type='StopDistillHook', stop_epoch=-1))
    assert HOOKS.build(dict(type='StopDistillHook', stop_epoch=3)).stop_epoch == 3
