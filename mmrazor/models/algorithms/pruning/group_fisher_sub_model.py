"""Group Fisher's fine-tune and deploy models, as MODELS builder functions.

* ``GroupFisherSubModel``: the pruning algorithm (with its pruned checkpoint) becomes
  the static pruned architecture, to fine-tune.
* ``GroupFisherDeploySubModel``: the plain architecture config and the unit widths
  ``{unit_name: width}`` become the same static architecture, into which a plain
  ``state_dict`` of the fine-tuned model loads (no pickled modules needed).
"""
import json
import math
import os.path as osp
import types
from typing import Any, Dict, List, Tuple, Union

import torch
import torch.nn as nn
from mmengine import MMLogger, dist, fileio
from mmengine.model import BaseModel, BaseModule

from mmrazor.models.mutables import MutableChannelUnit
from mmrazor.models.mutators import ChannelMutator
from mmrazor.registry import MODELS
from mmrazor.utils.lookup import closest_names

from ..base import BaseAlgorithm

Widths = Dict[str, int]


def _check_divisor(divisor: int) -> None:
    if isinstance(divisor, bool) or not isinstance(divisor, int) or divisor < 1:
        raise ValueError(f'divisor must be a positive int, got {divisor!r}')


def _round_up(width: int, divisor: int, num_channels: int) -> int:
    return min(num_channels, math.ceil(width / divisor) * divisor)


def _restore_to_divisible(unit: MutableChannelUnit, divisor: int) -> None:
    """Give back pruned channels, largest L1 norm first, until the unit's width is a
    multiple of ``divisor`` (or the full width): their trained weights are still there."""
    mask = unit.current_mask
    kept = int(mask.sum())
    target = _round_up(kept, divisor, unit.num_channels)
    if target == kept:
        return
    norm = unit.l1_norm() if hasattr(unit, 'l1_norm') else None
    score = torch.arange(unit.num_channels, 0, -1).float() if norm is None else norm.clone()
    score[mask] = -math.inf
    mask[score.topk(target - kept).indices] = True
    unit.mutable_channel.current_choice = mask


def _is_pretrained(init_cfg: Any) -> bool:
    cfgs = init_cfg if isinstance(init_cfg, list) else [init_cfg]
    return any(isinstance(cfg, dict) and cfg.get('type') == 'Pretrained' for cfg in cfgs)


def _save_structure_on_init(structure: Widths):
    """An ``init_weights`` that keeps the loaded weights and writes ``fix_subnet.json``
    (the deploy widths) into the runner's work dir, found through its log file."""

    def init_weights(model: nn.Module) -> None:
        if dist.get_rank() != 0:
            return
        log_file = getattr(MMLogger.get_current_instance(), 'log_file', None)
        if not log_file:
            return
        path = osp.join(osp.dirname(osp.dirname(log_file)), 'fix_subnet.json')
        fileio.dump(structure, path, indent=4)
        MMLogger.get_current_instance().info(f'pruning structure saved to {path}')

    return init_weights


# ---- zero-padding a narrower state dict into a deploy model of rounded widths ----------

_NORMS_OVER_CHANNELS = (nn.LayerNorm, nn.GroupNorm)
# (parameter or buffer name, value of the added entries)
_PER_CHANNEL = (('weight', 0.0), ('bias', 0.0), ('running_mean', 0.0), ('running_var', 1.0))
Segment = Tuple[int, int, int, int]  # start, end, exact size, rounded size


class ZeroPadLoader:
    """Makes a state dict of exact widths load into a model of rounded widths.

    Channels added by rounding get zero weights (and a BN that outputs 0, with
    running variance 1), so every layer reading them adds nothing and the outputs
    equal those of the exact-width model.

    Args:
        plans (dict): ``{state key: [(dim, positions, rounded size, fill)]}``:
            where the checkpoint's entries go along each padded dim.
    """

    def __init__(self, plans: Dict[str, List[Tuple[int, torch.Tensor, int, float]]]) -> None:
        self.plans = plans

    @property
    def pads_anything(self) -> bool:
        return bool(self.plans)

    @classmethod
    def from_units(cls, units: List[MutableChannelUnit], exact: Widths,
                   rounded: Widths) -> 'ZeroPadLoader':
        """The padding plan of ``units`` (all mutable units of the model)."""
        layouts: Dict[Tuple[str, bool], List[Segment]] = {}
        modules: Dict[str, nn.Module] = {}
        for unit in units:
            w_exact = exact.get(unit.name, unit.num_channels)
            w_round = rounded.get(unit.name, unit.num_channels)
            for channel in unit.channels:
                modules[channel.name] = channel.module
                side = cls._side(channel.module, channel.is_output_channel)
                if side is None:
                    continue
                layouts.setdefault((channel.name, side), []).append(
                    (channel.start, channel.end, w_exact * channel.expand_ratio,
                     w_round * channel.expand_ratio))
        plans: Dict[str, List[Tuple[int, torch.Tensor, int, float]]] = {}
        for (name, is_out), segments in layouts.items():
            if all(size == padded for _, _, size, padded in set(segments)):
                continue
            module = modules[name]
            if isinstance(module, _NORMS_OVER_CHANNELS):
                raise ValueError(f'{name} ({type(module).__name__}) normalizes over '
                                 'channels, so zero channels would change its output; '
                                 'use divisor=1 or widths that are multiples of divisor')
            full = module.channel_sizes[1 if is_out else 0]
            positions, size = cls._positions(sorted(set(segments)), full)
            dim = 0 if is_out or not isinstance(module, (nn.Conv2d, nn.Linear)) else 1
            for attr, fill in _PER_CHANNEL:
                if getattr(module, attr, None) is None:
                    continue
                plans.setdefault(f'{name}.{attr}', [])
                if dim == 1 and attr != 'weight':
                    continue
                plans[f'{name}.{attr}'].append((dim, positions, size, fill))
        return cls({key: plan for key, plan in plans.items() if plan})

    @staticmethod
    def _side(module: nn.Module, is_output: bool):
        """True/False: pad the output/input dim; None: nothing to pad on this side."""
        if is_output:
            return True
        if isinstance(module, nn.Conv2d) and module.groups > 1:
            return None  # a grouped conv's input dim is per group: its output side pads
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            return False
        return None  # a norm layer's input is its output channels

    @staticmethod
    def _positions(segments: List[Segment], full: int) -> Tuple[torch.Tensor, int]:
        """Where each checkpoint entry goes in the padded dim, and the padded size."""
        positions, round_off, cursor = [], 0, 0
        for start, end, size, padded in segments:
            gap = start - cursor  # channels in no unit keep their width
            positions.append(torch.arange(round_off, round_off + gap))
            round_off += gap
            positions.append(torch.arange(round_off, round_off + size))
            round_off += padded
            cursor = end
        tail = full - cursor
        positions.append(torch.arange(round_off, round_off + tail))
        return torch.cat(positions), round_off + tail

    def pad(self, state_dict: Dict[str, torch.Tensor], prefix: str = '') -> None:
        """Pad, in place, the entries of ``state_dict`` that have exact widths."""
        for key, plan in self.plans.items():
            tensor = state_dict.get(prefix + key)
            if tensor is None:
                continue
            for dim, positions, size, fill in plan:
                if tensor.shape[dim] == size:
                    continue  # already at the rounded width
                if tensor.shape[dim] != positions.numel():
                    raise ValueError(f'{prefix + key} has {tensor.shape[dim]} entries along '
                                     f'dim {dim}; fix_subnet gives {positions.numel()} '
                                     f'(or {size} after rounding)')
                shape = list(tensor.shape)
                shape[dim] = size
                padded = tensor.new_full(shape, fill)
                padded.index_copy_(dim, positions.to(tensor.device), tensor)
                tensor = padded
            state_dict[prefix + key] = tensor

    def register(self, model: nn.Module) -> None:
        """Pad every state dict loaded into ``model`` (or into a model holding it)."""

        def hook(state_dict, prefix, *args) -> None:
            self.pad(state_dict, prefix)

        model._register_load_state_dict_pre_hook(hook)


@MODELS.register_module()
def GroupFisherSubModel(algorithm: Union[BaseAlgorithm, Dict], divisor: int = 1,
                        **kwargs: Any) -> nn.Module:
    """The static pruned architecture of a Group Fisher (or any channel-pruning)
    algorithm, to fine-tune.

    The algorithm is built and initialized (its ``init_cfg`` loads the pruning
    checkpoint, masks included; the architecture is not initialized first: the
    checkpoint holds all its weights), each unit's width is rounded up to a multiple of
    ``divisor`` by giving back pruned channels, and every dynamic op becomes a plain
    layer holding the kept weights. ``model.pruning_structure`` holds the widths
    ``{unit_name: width}`` (written to ``<work_dir>/fix_subnet.json`` when a runner
    initializes the model) for :func:`GroupFisherDeploySubModel`.

    Args:
        algorithm (dict | BaseAlgorithm): The pruning algorithm or its config, with
            ``init_cfg=dict(type='Pretrained', checkpoint=<pruned checkpoint>)``.
        divisor (int): Widths become multiples of it. Defaults to 1.

    Returns:
        nn.Module: The pruned architecture (its data preprocessor included).
    """
    from mmrazor.structures import fix_all_mutables, to_static_model
    _check_divisor(divisor)
    if isinstance(algorithm, dict):
        algorithm = MODELS.build(algorithm)
    mutator = getattr(algorithm, 'mutator', None)
    if not isinstance(algorithm, BaseAlgorithm) or not isinstance(mutator, ChannelMutator):
        raise TypeError('GroupFisherSubModel needs a pruning algorithm with a channel '
                        f'mutator (e.g. GroupFisherAlgorithm), got {type(algorithm).__name__}')
    if _is_pretrained(algorithm.init_cfg):
        # the pruning checkpoint holds every weight: initializing the architecture
        # first (pretrained backbones are often downloads) would be wasted
        for module in algorithm.architecture.modules():
            if isinstance(module, BaseModule):
                module._is_init = True
    algorithm.init_weights()
    if divisor != 1:
        for unit in mutator.mutable_units:
            _restore_to_divisible(unit, divisor)
    structure = {unit.name: unit.mutable_channel.activated_channels
                 for unit in mutator.mutable_units}
    MMLogger.get_current_instance().info(
        'GroupFisherSubModel: pruning structure ' + json.dumps(structure, indent=4))
    fix_all_mutables(algorithm)
    model = to_static_model(algorithm.architecture)
    model.data_preprocessor = algorithm.data_preprocessor
    model.pruning_structure = structure
    if isinstance(model, BaseModel):
        model.init_cfg = None
        model.init_weights = types.MethodType(_save_structure_on_init(structure), model)
    return model


def _load_widths(fix_subnet: Union[str, Dict]) -> Dict[str, Union[int, float]]:
    widths = fileio.load(fix_subnet) if isinstance(fix_subnet, str) else fix_subnet
    if not isinstance(widths, dict):
        raise TypeError('fix_subnet must be {unit_name: width} or the path of a JSON/YAML '
                        f'file holding it, got {type(widths).__name__}')
    return dict(widths)


def _to_width(name: str, value: Any, num_channels: int) -> int:
    """An int width, or a float ratio of kept channels, as a number of channels."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f'fix_subnet[{name!r}] must be a width (int) or a ratio (float), '
                        f'got {value!r}')
    if isinstance(value, float):
        if not 0 < value <= 1:
            raise ValueError(f'fix_subnet[{name!r}] = {value}: a ratio is in (0, 1]')
        value = max(1, round(value * num_channels))
    if not 1 <= value <= num_channels:
        raise ValueError(f'fix_subnet[{name!r}] = {value}: the unit has {num_channels} '
                         'channels')
    return value


@MODELS.register_module()
def GroupFisherDeploySubModel(architecture: Union[nn.Module, Dict],
                              fix_subnet: Union[str, Dict] = {},  # noqa: B006
                              divisor: int = 1,
                              parse_cfg: Dict = dict(  # noqa: B006
                                  _scope_='mmrazor', type='ChannelAnalyzer',
                                  demo_input=(1, 3, 224, 224), tracer_type='FxTracer'),
                              **kwargs: Any) -> nn.Module:
    """The pruned static architecture from the plain architecture and unit widths.

    The architecture is traced, each unit named in ``fix_subnet`` keeps its first
    ``width`` channels (units not named keep all) and the model becomes static; the
    fine-tuned weights are then loaded as a plain ``state_dict``. With ``divisor > 1``
    widths are rounded up to its multiples and the added channels are zero-filled
    when a narrower state dict loads (so outputs are unchanged); units normalized
    over channels (LayerNorm/GroupNorm) cannot be padded and raise.

    Args:
        architecture (dict | nn.Module): The unpruned model or its config.
        fix_subnet (dict | str): ``{unit_name: width}`` (ints, or floats as kept
            ratios), or the path of a JSON/YAML file holding it (the
            ``fix_subnet.json`` a fine-tune run writes). Defaults to {}.
        divisor (int): Widths become multiples of it. Defaults to 1.
        parse_cfg (dict): How units are found (a ``ChannelAnalyzer`` config).
            Defaults to ``dict(_scope_='mmrazor', type='ChannelAnalyzer',
            demo_input=(1, 3, 224, 224), tracer_type='FxTracer')``.

    Returns:
        nn.Module: The static pruned architecture.
    """
    from mmrazor.structures import to_static_model
    _check_divisor(divisor)
    widths = _load_widths(fix_subnet)
    if isinstance(architecture, dict):
        architecture = MODELS.build(architecture)
    if not isinstance(architecture, nn.Module):
        raise TypeError(f'architecture must be an nn.Module or its config, got '
                        f'{type(architecture).__name__}')
    mutator = ChannelMutator(channel_unit_cfg=dict(type='SequentialMutableChannelUnit'),
                             parse_cfg=parse_cfg)
    mutator.prepare_from_supernet(architecture)
    units = {unit.name: unit for unit in mutator.mutable_units}
    unknown = [name for name in widths if name not in units]
    if unknown:
        hints = '; '.join(f'{name!r} (closest: {closest_names(name, list(units))})'
                          for name in unknown[:5])
        raise KeyError(f'fix_subnet names units the architecture does not have: {hints}. '
                       f'Was it made for another model? The model has {len(units)} units')
    exact = {name: _to_width(name, value, units[name].num_channels)
             for name, value in widths.items()}
    rounded = {name: _round_up(width, divisor, units[name].num_channels)
               for name, width in exact.items()}
    loader = ZeroPadLoader.from_units([units[name] for name in exact], exact, rounded)
    mutator.set_choices(rounded)
    mutator.fix_channel_mutables()
    model = to_static_model(architecture)
    if loader.pads_anything:
        loader.register(model)
    return model
