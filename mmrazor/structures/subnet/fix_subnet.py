"""Subnet export and load: the one path from a supernet or a pruned model to a static
model, shared by pruning and NAS.

A *subnet* is what the mutables chose. Two file formats, as in MMRazor:

* ``'mutable'`` mode (NAS YAML): ``{mutable name or alias: {'chosen': value}}``;
* ``'mutator'`` mode (pruning JSON): a ``ChannelMutator`` config whose units carry
  their ``choice`` (``config_template``).

Loading fixes every choice and then replaces every dynamic op by its static op with
the chosen slices of the weights (:func:`to_static_model`).
"""
import copy
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine import fileio

from mmrazor.registry import MODELS
from mmrazor.utils.lookup import closest_names, replace_module

SUBNET_MODES = ('mutable', 'mutator')


def _check_mode(mode: str, what: str) -> None:
    if mode not in SUBNET_MODES:
        raise ValueError(f'Unknown {what} {mode!r}; valid: {", ".join(SUBNET_MODES)}')


def _models():
    """mmrazor.models, imported when first used: its algorithms import this module."""
    from mmrazor.models import architectures, mutables, mutators
    return architectures.dynamic_ops, mutables, mutators


def _remove_prefix(name: str, prefix: str) -> str:
    # a real prefix removal: MMRazor's ``str.lstrip(prefix)`` stripped characters
    return name[len(prefix):] if prefix and name.startswith(prefix) else name


def named_mutables(model: nn.Module) -> Iterator[Tuple[str, nn.Module]]:
    """The mutables that make the subnet's choices, by module name.

    Containers (which only assemble other mutables) and derived mutables (computed
    from others) choose nothing: a derived mutable stands for its sources, named by
    the derived one's module name when they are no module of the model themselves
    (a searchable kernel size kept only by a dynamic op, as in MMRazor). Mutables
    inside a mutator (pruning units) are exported by the mutator (``'mutator'``
    mode).
    """
    _, mutables, mutators = _models()
    inside_mutators = {id(m) for module in model.modules()
                       if isinstance(module, mutators.BaseMutator) for m in module.modules()}
    skipped = (mutables.MutableChannelContainer, mutables.DerivedMutable)

    def choosing(mutable: nn.Module) -> bool:
        return (isinstance(mutable, mutables.BaseMutable)
                and id(mutable) not in inside_mutators and not isinstance(mutable, skipped))

    named = list(model.named_modules())
    seen = {id(module) for _, module in named if choosing(module)}
    for name, module in named:
        if choosing(module):
            yield name, module
        elif isinstance(module, mutables.DerivedMutable) and id(module) not in inside_mutators:
            for source in module.source_mutables:
                if choosing(source) and id(source) not in seen:
                    seen.add(id(source))
                    yield name, source


def _plain(value: Any) -> Any:
    """A choice as YAML/JSON can store it (masks become lists of bools)."""
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _mutator_of(model: nn.Module) -> nn.Module:
    mutator = getattr(model, 'mutator', None)
    if not isinstance(mutator, _models()[2].BaseMutator):
        raise TypeError(f"'mutator' mode needs a model with a mutator (an algorithm such "
                        f'as ItePruneAlgorithm); {type(model).__name__} has none')
    return mutator


def export_fix_subnet(model: nn.Module,
                      export_subnet_mode: str = 'mutable',
                      slice_weight: bool = False,
                      export_channel: bool = False
                      ) -> Tuple[Dict[str, Any], Optional[nn.Module]]:
    """Export the current choices of ``model``.

    Args:
        model (nn.Module): A supernet, or an algorithm (its mutator and
            architecture are used).
        export_subnet_mode (str): ``'mutable'`` (one entry per mutable) or
            ``'mutator'`` (the mutator's config with the units' choices).
        slice_weight (bool): Also return the static model: a copy of the
            architecture with every dynamic op replaced by a plain op holding only
            the chosen weights. Defaults to False.
        export_channel (bool): In ``'mutator'`` mode, store each unit's channels,
            so loading needs no tracing. Defaults to False.

    Returns:
        tuple: ``(fix_subnet, static_model or None)``.
    """
    _check_mode(export_subnet_mode, 'export_subnet_mode')
    if export_subnet_mode == 'mutator':
        fix_subnet = _mutator_of(model).config_template(
            with_unit_init_args=True, with_channels=export_channel)
        fix_subnet = _plain(fix_subnet)
    else:
        fix_subnet = {}
        for name, mutable in named_mutables(model):
            chosen, meta = mutable.dump_chosen()
            entry = {'chosen': _plain(chosen)}
            if meta:
                entry['meta'] = _plain(meta)
            fix_subnet[mutable.alias or name] = entry
    if not slice_weight:
        return fix_subnet, None
    from mmrazor.models.algorithms.base import architecture_of  # algorithms import us
    copied = copy.deepcopy(model)
    fix_all_mutables(copied)
    return fix_subnet, to_static_model(architecture_of(copied))


def fix_all_mutables(model: nn.Module) -> None:
    """Fix every unfixed mutable (mutators' units included) at its current choice."""
    for module in model.modules():
        fix = getattr(module, 'fix_channel_mutables', None)
        if isinstance(module, _models()[2].BaseMutator) and callable(fix):
            fix()
    for _, mutable in named_mutables(model):
        if not mutable.is_fixed:
            mutable.fix_chosen(mutable.current_choice)


def to_static_model(model: nn.Module) -> nn.Module:
    """Replace, in place, every dynamic op of ``model`` by its static op, and every
    pruned parameter by a plain one holding the kept channels.

    Every mutable the ops depend on must be fixed (else a clear error names the
    unfixed ones). The innermost ops are converted first.

    Returns:
        nn.Module: ``model`` (or its static op, if ``model`` itself is dynamic).
    """
    from mmrazor.models.architectures.dynamic_ops.parametrized_param import (
        remove_channel_parametrizations,
    )
    from mmrazor.models.architectures.dynamic_ops.size_attributes import (
        fix_size_attributes,
    )
    dynamic_mixin = _models()[0].DynamicMixin
    # pruned parameters (a layer scale) become plain, smaller parameters
    remove_channel_parametrizations(model)
    dynamic = [(name, module) for name, module in model.named_modules(remove_duplicate=False)
               if isinstance(module, dynamic_mixin)]
    static_ops: Dict[int, nn.Module] = {}  # a layer under several names stays one layer
    for name, module in sorted(dynamic, key=lambda item: -item[0].count('.')):
        if name:
            if id(module) not in static_ops:
                static_ops[id(module)] = module.to_static_op()
            replace_module(model, name, static_ops[id(module)])
    if isinstance(model, dynamic_mixin):
        model = model.to_static_op()
    fix_size_attributes(model)
    return model


def _load_subnet_file(fix_mutable: Union[str, Dict]) -> Dict:
    if isinstance(fix_mutable, dict):
        return copy.deepcopy(fix_mutable)
    loaded = fileio.load(fix_mutable)
    if not isinstance(loaded, dict):
        raise TypeError(f'{fix_mutable} holds a {type(loaded).__name__}, not a subnet '
                        'dict')
    return loaded


def _chosen(entry: Any) -> Any:
    return entry['chosen'] if isinstance(entry, dict) and 'chosen' in entry else entry


def _check_choice(key: str, mutable: nn.Module, chosen: Any) -> None:
    check = getattr(mutable, 'check_choice', None)
    if check is not None:  # op and value mutables know their valid choices
        try:
            check(chosen)
        except ValueError as error:
            raise ValueError(f'subnet choice {chosen!r} for {key!r}: {error}') from None
        return
    try:
        choices = mutable.choices
    except NotImplementedError:
        return
    if chosen not in choices:
        raise ValueError(f'subnet choice {chosen!r} for {key!r} is not one of the '
                         f'choices of {type(mutable).__name__}: {choices}')


def load_fix_subnet(model: nn.Module,
                    fix_mutable: Union[str, Dict],
                    load_subnet_mode: str = 'mutable',
                    prefix: str = '',
                    extra_prefix: str = '') -> None:
    """Fix ``model``'s choices to a subnet and make it static, in place.

    Nothing is changed unless the whole subnet matches the model.

    Args:
        model (nn.Module): A supernet (``'mutable'`` mode) or a plain model to prune
            (``'mutator'`` mode: the mutator is built from the file and traced on it).
        fix_mutable (str | dict): The subnet or a path to its YAML/JSON file.
        load_subnet_mode (str): ``'mutable'`` or ``'mutator'``.
        prefix (str): Removed from the start of the model's mutable names before
            they are looked up (e.g. ``'architecture.'``). Defaults to ''.
        extra_prefix (str): Put in front of the names after ``prefix`` is removed.
            Defaults to ''.

    Raises:
        KeyError: the subnet names mutables the model lacks, or misses some.
        ValueError: a choice is not one of the mutable's choices.
    """
    _check_mode(load_subnet_mode, 'load_subnet_mode')
    subnet = _load_subnet_file(fix_mutable)
    if load_subnet_mode == 'mutator':
        _load_mutator_subnet(model, subnet)
    else:
        _load_mutable_subnet(model, subnet, prefix, extra_prefix)
    to_static_model(model)


def _derived_names(model: nn.Module, prefix: str, extra_prefix: str) -> set:
    """Subnet keys of the model's derived mutables. MMRazor's YAMLs may list them
    (Autoformer's ``middle_channels``); their choice follows their sources, so such
    entries are skipped."""
    derived = _models()[1].DerivedMutable
    return {m.alias or extra_prefix + _remove_prefix(n, prefix)
            for n, m in model.named_modules(remove_duplicate=False) if isinstance(m, derived)}


def _load_mutable_subnet(model: nn.Module, subnet: Dict, prefix: str,
                         extra_prefix: str) -> None:
    plan: List[Tuple[nn.Module, Any]] = []
    missing, used = [], set()
    for name, mutable in named_mutables(model):
        key = mutable.alias or extra_prefix + _remove_prefix(name, prefix)
        if key not in subnet:
            missing.append(key)
            continue
        chosen = _chosen(subnet[key])
        _check_choice(key, mutable, chosen)
        plan.append((mutable, chosen))
        used.add(key)
    derived = _derived_names(model, prefix, extra_prefix)
    unknown = [key for key in subnet if key not in used and key not in derived]
    if unknown:
        valid = list(dict.fromkeys(m.alias or extra_prefix + _remove_prefix(n, prefix)
                                   for n, m in named_mutables(model)))
        hints = '; '.join(f'{key!r} (did you mean {closest_names(key, valid, 3)}?)'
                          for key in unknown[:5])
        raise KeyError(f'the subnet names mutables the model does not have: {hints}; '
                       f'the model has {len(valid)}: {valid[:10]}'
                       f'{" ..." if len(valid) > 10 else ""}')
    if missing:
        raise KeyError(f'the subnet has no choice for these mutables of the model: '
                       f'{missing[:10]}{" ..." if len(missing) > 10 else ""}')
    for mutable, chosen in plan:
        mutable.fix_chosen(chosen)


def _load_mutator_subnet(model: nn.Module, subnet: Dict) -> None:
    if 'channel_unit_cfg' not in subnet:
        raise KeyError("a 'mutator' subnet is a mutator config with 'channel_unit_cfg' "
                       f'(from export_fix_subnet(..., "mutator")); got keys {list(subnet)}')
    config = copy.deepcopy(subnet)
    units = config['channel_unit_cfg'].get('units', {})
    choices = {name: unit.pop('choice') for name, unit in units.items() if 'choice' in unit}
    if units and all('channels' in unit for unit in units.values()):
        config['parse_cfg'] = dict(type='Config')
    config.setdefault('type', 'ChannelMutator')
    config.setdefault('_scope_', 'mmrazor')
    mutator = MODELS.build(config)
    mutator.prepare_from_supernet(model)
    mutator.set_choices(choices)
    mutator.fix_channel_mutables()


def convert_fix_subnet(fix_subnet: Dict[str, Any]) -> Dict[str, Any]:
    """A subnet whose entries may be ``DumpChosen`` tuples, as plain dicts."""
    converted = {}
    for key, entry in fix_subnet.items():
        if hasattr(entry, 'chosen') and hasattr(entry, 'meta'):
            entry = {'chosen': entry.chosen, **({'meta': entry.meta} if entry.meta else {})}
        converted[key] = _plain(entry)
    return converted


@MODELS.register_module()
def sub_model(cfg: Dict,
              fix_subnet: Union[str, Dict],
              mode: str = 'mutable',
              prefix: str = '',
              extra_prefix: str = '',
              init_weight_from_supernet: bool = False,
              init_cfg: Optional[Dict] = None,
              **kwargs: Any) -> nn.Module:
    """Build ``cfg`` (a supernet or a model to prune) and slice it to ``fix_subnet``.

    Args:
        cfg (dict): The supernet / architecture config.
        fix_subnet (str | dict): The subnet (see :func:`load_fix_subnet`).
        mode (str): ``'mutable'`` or ``'mutator'``. Defaults to 'mutable'.
        prefix (str): See :func:`load_fix_subnet`.
        extra_prefix (str): See :func:`load_fix_subnet`.
        init_weight_from_supernet (bool): Initialise (load ``init_cfg``'s
            checkpoint into) the supernet before slicing, so the subnet inherits
            the supernet's weights. Otherwise ``init_cfg`` is kept for the runner
            to load a subnet checkpoint into the static model. Defaults to False.
        init_cfg (dict, optional): Weight init, e.g.
            ``dict(type='Pretrained', checkpoint=..., prefix='architecture.')``.
    """
    model = MODELS.build(cfg)
    if init_weight_from_supernet:
        if init_cfg is not None:
            model.init_cfg = init_cfg
        model.init_weights()
    load_fix_subnet(model, fix_subnet, mode, prefix, extra_prefix)
    if not init_weight_from_supernet and init_cfg is not None:
        model.init_cfg = init_cfg
    # the Runner (and tools/train.py) hand a top-level data_preprocessor config to
    # the model config: build it rather than set a dict (or None) as the module
    preprocessor = kwargs.pop('data_preprocessor', None)
    if preprocessor is not None:
        model.data_preprocessor = preprocessor if isinstance(preprocessor, nn.Module) \
            else MODELS.build(preprocessor)
    for key, value in kwargs.items():
        setattr(model, key, value)
    return model
