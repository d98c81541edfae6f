"""Size rules: how a module whose ``forward`` sizes tensors by itself follows the
widths of its pruned layers.

mmpretrain's ``MultiheadAttention`` splits its ``qkv`` output with
``reshape(B, N, 3, self.num_heads, self.head_dims)`` and merges the heads back with
``reshape(B, N, self.embed_dims)``; torchvision's ``VisionTransformer`` flattens its
patch embedding with ``reshape(n, self.hidden_dim, -1)``. Pruning head dims (the same
dims in every head, of q, k and v alike) shrinks ``qkv`` and ``proj``; these *size
attributes* must shrink with them. A :class:`SizeRule` per module type names them and
computes them from the layers' current widths. The channel tracer lets literal sizes
equal to such an attribute follow the channels (any other literal size freezes them);
a forward pre-hook keeps the attributes in step with the masks while the model is
dynamic, and :func:`fix_size_attributes` sets them for good in the static model.

Swin's attention (torchvision's and mmpretrain's) takes its head dims from the input
width, which no attribute can fix: its rule gives the module a class whose forward
computes with the layers' widths (``PrunedShiftedWindowAttention``, ``PrunedWindowMSA``).

Pruning removes dims and changes nothing else: the attention keeps the scale of the
full head dims (pinned when the rule is applied), so a model with head dims pruned
computes what the full model computes with those dims zeroed.
"""
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Dict, Optional, Set, Tuple, Type

import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import parametrize

from .mixins import DynamicChannelMixin


@dataclass(frozen=True)
class SizeRule:
    """``compute(module) -> {attribute: value}`` from the current layer widths;
    ``pin(module)`` fixes, at full width, what must not change with them."""

    attributes: Tuple[str, ...]
    compute: Optional[Callable[[nn.Module], Dict[str, Any]]]
    pin: Optional[Callable[[nn.Module], None]] = None
    # sizes the module reads from tensor shapes are recomputed by its pruned forward,
    # wherever the original uses them
    sizes_follow: bool = False


def out_width(layer: nn.Module) -> int:
    """The output channels a layer computes now (the kept ones, if dynamic)."""
    if isinstance(layer, DynamicChannelMixin):
        mask = layer.get_mutable_attr('out_channels')
        if mask is not None:
            return int(mask.current_mask.sum())
        return layer.channel_sizes[1]
    for attr in ('out_features', 'out_channels', 'num_features'):
        if hasattr(layer, attr):
            return int(getattr(layer, attr))
    if isinstance(layer, nn.LayerNorm):
        return int(layer.normalized_shape[-1])
    raise TypeError(f'{type(layer).__name__} has no output width')


def _mmpretrain_attention(module: nn.Module) -> Dict[str, int]:
    head_dims = out_width(module.qkv) // (3 * module.num_heads)
    return dict(head_dims=head_dims, embed_dims=head_dims * module.num_heads)


def _pin_attention_scale(module: nn.Module) -> None:
    """Torch's attention scales by the current head dims: pin the full ones."""
    if module.scaled_dot_product_attention is F.scaled_dot_product_attention:
        module.scaled_dot_product_attention = partial(
            F.scaled_dot_product_attention, scale=module.head_dims**-0.5)


def _torchvision_vit(module: nn.Module) -> Dict[str, int]:
    return dict(hidden_dim=out_width(module.conv_proj))


def _mmpretrain_swin(module: nn.Module) -> Dict[str, list]:
    """``num_features[i]``: the width of the outputs of stage ``i`` (read in
    ``out.view(-1, *hw_shape, self.num_features[i])``)."""
    widths = list(module.num_features)
    for i in module.out_indices:
        widths[i] = out_width(getattr(module, f'norm{i}'))
    return dict(num_features=widths)


def _to_pruned_class(pruned_class: Type[nn.Module]) -> Callable[[nn.Module], None]:
    """A pin that gives a module the class whose forward follows its layers' widths
    (Swin's window attention), with the scale of its full head dims."""

    def pin(module: nn.Module) -> None:
        if hasattr(module, 'qkv') and not hasattr(module, 'scale'):
            module.scale = (module.qkv.out_features // 3 // module.num_heads)**-0.5
        module.__class__ = pruned_class

    return pin


def _rules() -> Dict[Type[nn.Module], SizeRule]:
    """The known module types (exact types: a subclass may compute its sizes
    differently)."""
    from mmpretrain.models.backbones import SwinTransformer
    from mmpretrain.models.utils.attention import MultiheadAttention, WindowMSA
    from torchvision.models.maxvit import RelativePositionalMultiHeadAttention
    from torchvision.models.swin_transformer import (
        ShiftedWindowAttention,
        ShiftedWindowAttentionV2,
    )
    from torchvision.models.vision_transformer import VisionTransformer

    from mmrazor.models.architectures.ops.pruned_window_attention import (
        PrunedRelativePositionalMultiHeadAttention,
        PrunedShiftedWindowAttention,
        PrunedShiftedWindowAttentionV2,
        PrunedWindowMSA,
    )
    return {
        # ``reshape(B, N, 3, self.num_heads, self.head_dims)``, ``reshape(B, N,
        # self.embed_dims)``; torch's attention would rescale by the pruned head dims
        MultiheadAttention: SizeRule(('head_dims', 'embed_dims'), _mmpretrain_attention,
                                     _pin_attention_scale),
        # ``out.view(-1, *hw_shape, self.num_features[i])``
        SwinTransformer: SizeRule(('num_features', ), _mmpretrain_swin),
        # ``x.reshape(n, self.hidden_dim, n_h * n_w)`` after the patch embedding
        VisionTransformer: SizeRule(('hidden_dim', ), _torchvision_vit),
        # head dims taken from the input width (and torchvision's reads the weights
        # directly): a forward computing with the layers' widths
        WindowMSA: SizeRule((), None, _to_pruned_class(PrunedWindowMSA), sizes_follow=True),
        ShiftedWindowAttention: SizeRule(
            (), None, _to_pruned_class(PrunedShiftedWindowAttention)),
        ShiftedWindowAttentionV2: SizeRule(
            (), None, _to_pruned_class(PrunedShiftedWindowAttentionV2)),
        RelativePositionalMultiHeadAttention: SizeRule(
            (), None, _to_pruned_class(PrunedRelativePositionalMultiHeadAttention),
            sizes_follow=True),
    }


SIZE_RULES: Dict[Type[nn.Module], SizeRule] = _rules()


def size_rule(module: nn.Module) -> Optional[SizeRule]:
    """The rule of ``module``'s type (before a parametrization subclassed it: a
    pruned class token), or None."""
    return SIZE_RULES.get(parametrize.type_before_parametrizations(module))


def size_values(module: nn.Module) -> Set[int]:
    """The current values of ``module``'s size attributes (empty: none)."""
    rule = size_rule(module)
    if rule is None:
        return set()
    values: Set[int] = set()
    for attr in rule.attributes:
        value = getattr(module, attr)
        values.update(int(v) for v in (value if isinstance(value, (list, tuple)) else [value]))
    return values


def sync_size_attributes(module: nn.Module, *args) -> None:
    """Set ``module``'s size attributes from its layers' current widths (also the
    forward pre-hook)."""
    for attr, value in size_rule(module).compute(module).items():
        setattr(module, attr, value)


def attach_size_hooks(model: nn.Module) -> int:
    """Keep the size attributes of every module with a rule in step with the masks;
    returns how many modules got the hook."""
    count = 0
    for module in model.modules():
        rule = size_rule(module)
        if rule is not None and \
                sync_size_attributes not in module._forward_pre_hooks.values():
            if rule.pin is not None:
                rule.pin(module)
            if rule.attributes:
                module.register_forward_pre_hook(sync_size_attributes)
            count += 1
    return count


def fix_size_attributes(model: nn.Module) -> None:
    """Static model: set every size attribute once and drop the hooks."""
    for module in model.modules():
        rule = size_rule(module)
        if rule is None or not rule.attributes:
            continue
        sync_size_attributes(module)
        for key, hook in list(module._forward_pre_hooks.items()):
            if hook is sync_size_attributes:
                del module._forward_pre_hooks[key]


__all__ = ['SizeRule', 'SIZE_RULES', 'size_rule', 'size_values', 'sync_size_attributes',
           'attach_size_hooks', 'fix_size_attributes', 'out_width']
