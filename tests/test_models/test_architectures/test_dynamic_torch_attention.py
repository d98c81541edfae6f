"""``DynamicTorchMultiheadAttention`` computes what ``nn.MultiheadAttention`` computes,
on the kept slice when pruned, and exports to ``PrunedMultiheadAttention``."""
import pytest
import torch
import torch.nn as nn

from mmrazor.models.architectures.dynamic_ops import DynamicLinear, DynamicTorchMultiheadAttention
from mmrazor.models.architectures.ops import PrunedMultiheadAttention
from mmrazor.models.mutables import MutableChannelContainer, SimpleMutableChannel
from mmrazor.models.task_modules.estimators.counters import get_model_flops_params

E, HEADS, L, S = 12, 3, 5, 7


def attention(batch_first: bool) -> nn.MultiheadAttention:
    torch.manual_seed(0)
    module = nn.MultiheadAttention(E, HEADS, batch_first=batch_first).eval()
    with torch.no_grad():
        module.in_proj_bias.normal_()
        module.out_proj.bias.normal_()
    return module


def tokens(length: int, batch_first: bool, batch: int = 2) -> torch.Tensor:
    return torch.randn(batch, length, E) if batch_first else torch.randn(length, batch, E)


CALLS = {
    'plain': dict(),
    'weights': dict(need_weights=True),
    'weights per head': dict(need_weights=True, average_attn_weights=False),
    'bool mask': dict(attn_mask=torch.rand(L, S) > 0.7, need_weights=False),
    'float mask': dict(attn_mask=torch.randn(L, S), need_weights=False),
    'padding': dict(key_padding_mask=torch.tensor([[False] * 6 + [True]] * 2)),
    'both masks': dict(attn_mask=torch.rand(L, S) > 0.8,
                       key_padding_mask=torch.tensor([[False] * 5 + [True] * 2] * 2)),
}


@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('call', list(CALLS))
def test_full_width_matches_torch(batch_first, call):
    torch_op = attention(batch_first)
    dynamic = DynamicTorchMultiheadAttention.convert_from(torch_op)
    query, memory = tokens(L, batch_first), tokens(S, batch_first)
    kwargs = CALLS[call]
    with torch.no_grad():
        expected, expected_weights = torch_op(query, memory, memory, **kwargs)
        got, weights = dynamic(query, memory, memory, **kwargs)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    if expected_weights is None:
        assert weights is None
    else:
        torch.testing.assert_close(weights, expected_weights, atol=1e-6, rtol=1e-5)


def test_unbatched_and_causal_match_torch():
    torch_op = attention(batch_first=True)
    dynamic = DynamicTorchMultiheadAttention.convert_from(torch_op)
    x = torch.randn(L, E)
    causal = nn.Transformer.generate_square_subsequent_mask(L)
    with torch.no_grad():
        torch.testing.assert_close(dynamic(x, x, x)[0], torch_op(x, x, x)[0],
                                   atol=1e-5, rtol=1e-5)
        x = tokens(L, True)
        torch.testing.assert_close(
            dynamic(x, x, x, attn_mask=causal, is_causal=True)[0],
            torch_op(x, x, x, attn_mask=causal, is_causal=True)[0], atol=1e-5, rtol=1e-5)


def mutable(size: int, keep) -> SimpleMutableChannel:
    channel = SimpleMutableChannel(size)
    mask = torch.zeros(size, dtype=torch.bool)
    mask[list(keep)] = True
    channel.current_choice = mask
    return channel


def prune(module: nn.MultiheadAttention, inputs, head_dims, outputs):
    """Dynamic op + out_proj with these kept input channels, head dims and outputs."""
    dynamic = DynamicTorchMultiheadAttention.convert_from(module)
    dynamic.out_proj = DynamicLinear.convert_from(dynamic.out_proj)
    kept_in, kept_heads, kept_out = (mutable(E, inputs), mutable(E // HEADS, head_dims),
                                     mutable(E, outputs))
    containers = {}
    for op, side, size in ((dynamic, 'in_channels', E), (dynamic, 'out_channels', 3 * E),
                           (dynamic.out_proj, 'in_channels', E),
                           (dynamic.out_proj, 'out_channels', E)):
        containers[(op, side)] = MutableChannelContainer(size)
        op.register_mutable_attr(side, containers[(op, side)])
    containers[(dynamic, 'in_channels')].register_mutable(kept_in, 0, E)
    step = E // HEADS
    for copy in range(3 * HEADS):  # q, k, v of every head: the same head dims
        containers[(dynamic, 'out_channels')].register_mutable(
            kept_heads, copy * step, copy * step + step)
    for head in range(HEADS):
        containers[(dynamic.out_proj, 'in_channels')].register_mutable(
            kept_heads, head * step, head * step + step)
    containers[(dynamic.out_proj, 'out_channels')].register_mutable(kept_out, 0, E)
    return dynamic, (kept_in, kept_heads, kept_out)


def flops(module: nn.Module, x: torch.Tensor) -> tuple:
    """FLOPs and params of self-attention over ``x`` (batch-first, one sample)."""
    return get_model_flops_params(
        module, input_shape=(1, *x.shape[1:]), units=None,
        input_constructor=lambda _: dict(query=x[:1], key=x[:1], value=x[:1]))


def test_pruned_equals_full_with_pruned_channels_zeroed_and_exports():
    torch_op = attention(batch_first=True)
    inputs, head_dims, outputs = [0, 1, 3, 4, 6, 8, 9, 11], [0, 2, 3], [1, 2, 5, 7, 8]
    dynamic, mutables = prune(attention(batch_first=True), inputs, head_dims, outputs)
    # the full attention with dropped head dims zeroed (q, k, v of every head)
    dropped = [c * 4 + d for c in range(3 * HEADS) for d in range(4) if d not in head_dims]
    with torch.no_grad():
        torch_op.in_proj_weight[dropped] = 0
        torch_op.in_proj_bias[dropped] = 0
    x = tokens(L, True)
    x_full = torch.zeros_like(x)
    x_full[..., inputs] = x[..., inputs]
    with torch.no_grad():
        expected = torch_op(x_full, x_full, x_full)[0][..., outputs]
        got = dynamic(x[..., inputs], x[..., inputs], x[..., inputs])[0]
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    flops_dynamic = flops(dynamic, x[..., inputs])
    for item in mutables:
        item.fix_chosen()
    dynamic.out_proj = dynamic.out_proj.to_static_op()
    static = dynamic.to_static_op()
    assert isinstance(static, PrunedMultiheadAttention)
    assert static.in_proj_weight.shape == (3 * HEADS * 3, 8)
    assert (static.out_proj.in_features, static.out_proj.out_features) == (9, 5)
    with torch.no_grad():
        torch.testing.assert_close(static(*(x[..., inputs], ) * 3)[0], got)
    assert flops(static, x[..., inputs]) == flops_dynamic
    assert flops_dynamic[0] < flops(torch_op, x)[0]
    assert flops_dynamic[1] < flops(torch_op, x)[1]


def test_unpruned_exports_to_torch_attention():
    torch_op = attention(batch_first=False)
    dynamic = DynamicTorchMultiheadAttention.convert_from(attention(batch_first=False))
    static = dynamic.to_static_op()
    assert type(static) is nn.MultiheadAttention
    x = tokens(L, False)
    with torch.no_grad():
        torch.testing.assert_close(static(x, x, x)[0], torch_op(x, x, x)[0])


@pytest.mark.parametrize('kwargs', [dict(kdim=6, vdim=6), dict(add_bias_kv=True),
                                    dict(add_zero_attn=True)])
def test_unusual_forms_are_not_convertible(kwargs):
    assert not DynamicTorchMultiheadAttention.is_convertible(
        nn.MultiheadAttention(E, HEADS, **kwargs))
