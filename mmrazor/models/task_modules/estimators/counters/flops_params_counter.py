"""``get_model_flops_params``: MMRazor 1.x's FLOPs/params entry point, on the one
counting mechanism of :mod:`.counting`."""
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO, Tuple, Union

import torch.nn as nn

from mmrazor.utils.lookup import get_module

from ..units import check_units, convert, flops_string, params_string
from .counting import count_flops_params
from .report import FlopsParamsReport

Figure = Union[float, str]


def check_input_shape(input_shape: Any) -> Tuple[int, ...]:
    """``input_shape`` as a tuple of positive ints, batch first, or a clear error."""
    if (not isinstance(input_shape, (tuple, list)) or not input_shape
            or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0
                       for d in input_shape)):
        raise ValueError(f'input_shape must be a non-empty tuple of positive ints, batch '
                         f'first, e.g. (1, 3, 224, 224); got {input_shape!r}')
    return tuple(input_shape)


def make_input(model: nn.Module, input_shape: Sequence[int],
               input_constructor: Optional[Callable[[Tuple], Any]] = None) -> Tuple[Any, int]:
    """The input to count or time ``model`` on, and its batch size.

    ``input_constructor(input_shape)`` when given; otherwise the model's default demo
    input (:class:`DefaultDemoInput`): a tensor for a plain ``nn.Module``, and a batch
    shaped like the upstream task's real input (data samples with image meta) for
    mmpretrain, mmdet and mmseg models and mmrazor algorithms.
    """
    from ...demo_inputs import DefaultDemoInput
    input_shape = check_input_shape(input_shape)
    if input_constructor is not None:
        return input_constructor(input_shape), input_shape[0]
    return DefaultDemoInput(input_shape=input_shape).get_data(model), input_shape[0]


def count_model(model: nn.Module,
                input_shape: Sequence[int] = (1, 3, 224, 224),
                disabled_counters: Sequence[str] = (),
                input_constructor: Optional[Callable[[Tuple], Any]] = None
                ) -> FlopsParamsReport:
    """Count ``model`` in eval mode on its demo input (or ``input_constructor``'s),
    restoring its train/eval mode afterwards."""
    data, batch_size = make_input(model, input_shape, input_constructor)
    was_training = model.training
    model.eval()
    try:
        return count_flops_params(model, data, batch_size, disabled_counters)
    finally:
        model.train(was_training)


# The list and dict defaults are MMRazor 1.x's, kept so configs mean the same; never mutated.
def get_model_flops_params(model: nn.Module,
                           input_shape: Tuple = (1, 3, 224, 224),
                           spec_modules: List[str] = [],  # noqa: B006
                           disabled_counters: List[str] = [],  # noqa: B006
                           print_per_layer_stat: bool = False,
                           units: Optional[Dict[str, Optional[str]]] = dict(  # noqa: B006
                               flops='M', params='M'),
                           as_strings: bool = False,
                           seperate_return: bool = False,
                           input_constructor: Optional[Callable[[Tuple], Any]] = None,
                           flush: bool = False,
                           ost: TextIO = sys.stdout
                           ) -> Union[Tuple[Figure, Figure], Dict[str, Dict[str, Figure]]]:
    """FLOPs (per sample) and parameters of ``model``, or of some of its modules.

    FLOPs are multiply-accumulates of conv, linear and attention matmuls plus one per
    element of bias adds, norms, activations and pooling, as MMRazor 1.x counts them
    (``torch.utils.flop_counter`` counts 2 per multiply-accumulate and no element-wise
    work).

    Args:
        model (nn.Module): The model; counted in eval mode, its mode restored after.
        input_shape (tuple): Input shape, batch first. Defaults to (1, 3, 224, 224).
        spec_modules (list): Module names (``['backbone', 'head']``) to count instead of
            the whole model; their figures are summed. Defaults to [].
        disabled_counters (list): Counter names (``['ReLUCounter']``) whose layers count
            as nothing. Defaults to [].
        print_per_layer_stat (bool): Print a per-module table to ``ost``.
            Defaults to False.
        units (dict | None): ``flops`` and ``params`` units, each 'G', 'M', 'K' or None
            (a plain count); None for plain counts. Defaults to dict(flops='M',
            params='M').
        as_strings (bool): Return strings like ``'4109.5 MFLOPs'``. Defaults to False.
        seperate_return (bool): Return ``{module: {'flops', 'params'}}`` for each of
            ``spec_modules`` (MMRazor's spelling). Defaults to False.
        input_constructor (Callable, optional): ``input_shape -> input``, a tensor or a
            dict of ``model(**input)`` keyword arguments. Defaults to the model's demo
            input.
        flush (bool): Flush ``ost`` after printing. Defaults to False.
        ost (TextIO): Stream for the table. Defaults to sys.stdout.

    Returns:
        tuple | dict: ``(flops, params)``, or the per-module dict of ``seperate_return``.
    """
    check_units(units)
    if seperate_return and not spec_modules:
        raise ValueError('seperate_return=True needs spec_modules, the names of the modules '
                         "to return separately, e.g. spec_modules=['backbone', 'head']")
    for name in spec_modules:
        get_module(model, name)  # a clear error with close names for a typo
    report = count_model(model, input_shape, disabled_counters, input_constructor)
    units = units or {}
    flops_unit, params_unit = units.get('flops'), units.get('params')
    if print_per_layer_stat:
        print(report.table(depth=100, units=dict(flops=flops_unit, params=params_unit)),
              file=ost, flush=flush)

    def figures(flops: float, params: float) -> Dict[str, Figure]:
        flops, params = convert(flops, flops_unit), convert(params, params_unit)
        if as_strings:
            return dict(flops=flops_string(flops, flops_unit),
                        params=params_string(params, params_unit))
        return dict(flops=flops, params=params)

    names = list(spec_modules) or ['']
    for name in names:
        if name not in report.flops:
            raise ValueError(f"spec module '{name}' runs inside a layer counted as a whole; "
                             'name that layer or one of its parents instead')
    if seperate_return:
        return {name: figures(report.flops[name], report.params[name]) for name in names}
    total = figures(sum(report.flops[name] for name in names),
                    sum(report.params[name] for name in names))
    return total['flops'], total['params']
