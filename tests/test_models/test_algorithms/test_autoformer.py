"""``Autoformer`` on a tiny AutoFormer supernet: a train step samples one subnet and
changes only that subnet's slice of the entangled weights; MMRazor's signature and
defaults; bad mutators are refused."""
import inspect
import random

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from mmrazor.models import Autoformer
from mmrazor.models.mutators import NasMutator
from mmrazor.registry import MODELS

# one_thread: an autouse fixture, active here once imported
from ..test_architectures.test_autoformer import tiny_classifier
from ..test_architectures.test_searchable_shufflenet import one_thread  # noqa: F401


def autoformer() -> Autoformer:
    torch.manual_seed(0)
    return Autoformer(architecture=tiny_classifier(), mutator=dict(type='mmrazor.NasMutator'))


def batch() -> dict:
    torch.manual_seed(1)
    return dict(inputs=torch.rand(4, 3, 28, 28),
                data_samples=[DataSample().set_gt_label(i) for i in range(4)])


def test_signature_and_defaults_are_mmrazors():
    params = inspect.signature(Autoformer).parameters
    assert list(params) == ['architecture', 'mutator', 'data_preprocessor', 'init_cfg']
    assert all(params[name].default is None for name in list(params)[1:])
    model = Autoformer(architecture=tiny_classifier())
    assert isinstance(model.mutator, NasMutator) and model.mutator.search_groups
    with pytest.raises(TypeError, match='needs a NasMutator .* got OneShotChannelMutator'):
        MODELS.build(dict(type='mmrazor.Autoformer', architecture=tiny_classifier(),
                          mutator=dict(type='mmrazor.OneShotChannelMutator')))


def _small_subnet_seed(model: Autoformer) -> int:
    """A seed whose sampled subnet is below the largest in depth, embedding dims and
    block 0's heads and MLP ratio (so every kind of slice is tested)."""
    backbone = model.architecture.backbone
    block = backbone.blocks[0]
    for seed in range(500):
        random.seed(seed)
        model.mutator.set_choices(model.mutator.sample_choices())
        if (backbone.mutable_depth.current_choice < 3
                and backbone.mutable_embed_dims.current_choice < 32
                and block.mutable_num_heads.current_choice < 2
                and block.mutable_mlp_ratios.current_choice < 2.0):
            return seed
    raise AssertionError('no seed samples a small subnet')


def test_train_step_changes_only_the_sampled_subnets_weights():
    model = autoformer()
    backbone = model.architecture.backbone
    seed = _small_subnet_seed(model)
    choices = model.mutator.current_choices
    depth = backbone.mutable_depth.current_choice
    dims = backbone.mutable_embed_dims.current_choice
    block = backbone.blocks[0]
    q_dims = block.mutable_num_heads.current_choice * 64
    hidden = int(dims * block.mutable_mlp_ratios.current_choice)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.5))
    random.seed(seed)
    losses = model.train_step(batch(), optim_wrapper)
    assert torch.isfinite(losses['loss'])
    assert model.mutator.current_choices == choices  # the step trained this subnet
    after = model.state_dict()

    def changed(key: str, index=...) -> bool:
        return not torch.equal(before[key][index], after[key][index])

    prefix = 'architecture.backbone.'
    # the chosen slices learnt...
    assert changed(prefix + 'pos_embed', (..., slice(0, dims)))
    assert changed(prefix + 'blocks.0.fc1.weight', (slice(0, hidden), slice(0, dims)))
    assert changed(prefix + 'blocks.0.attn.w_qs.weight', (slice(0, q_dims), slice(0, dims)))
    assert changed('architecture.head.fc.weight', (slice(None), slice(0, dims)))
    # ...and nothing outside them did
    assert not changed(prefix + 'pos_embed', (..., slice(dims, None)))
    assert not changed(prefix + 'cls_token', (..., slice(dims, None)))
    assert not changed(prefix + 'blocks.0.fc1.weight', (slice(hidden, None), ))
    assert not changed(prefix + 'blocks.0.fc1.weight', (slice(None), slice(dims, None)))
    assert not changed(prefix + 'blocks.0.fc2.weight', (slice(None), slice(hidden, None)))
    assert not changed(prefix + 'blocks.0.attn.w_qs.weight', (slice(q_dims, None), ))
    assert not changed(prefix + 'blocks.0.attn.proj.weight', (slice(None), slice(q_dims, None)))
    assert not changed('architecture.head.fc.weight', (slice(None), slice(dims, None)))
    unused = [k for k in before if k.startswith(prefix + 'blocks.')
              and int(k.split('.')[3]) >= depth]
    assert unused and not any(changed(k) for k in unused)


def test_steps_sample_different_subnets():
    model = autoformer()
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    random.seed(0)
    sampled = []
    for _ in range(3):
        model.train_step(batch(), optim_wrapper)
        sampled.append(model.mutator.current_choices)
    assert len({str(s) for s in sampled}) > 1
