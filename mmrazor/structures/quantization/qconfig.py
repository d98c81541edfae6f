"""QConfigHandler: MMRazor's ``global_qconfig`` dict as torch fake-quant factories.

Example (a ``global_qconfig`` of MMRazor 1.x):
    >>> handler = QConfigHandler(dict(
    ...     w_observer=dict(type='mmrazor.PerChannelMinMaxObserver'),
    ...     a_observer=dict(type='mmrazor.MovingAverageMinMaxObserver'),
    ...     w_fake_quant=dict(type='mmrazor.FakeQuantize'),
    ...     a_fake_quant=dict(type='mmrazor.FakeQuantize'),
    ...     w_qscheme=dict(qdtype='qint8', bit=8, is_symmetry=True, is_symmetric_range=True),
    ...     a_qscheme=dict(qdtype='quint8', bit=8, is_symmetry=True, averaging_constant=0.1)))
    >>> handler.convert()  # torch.ao.quantization.QConfig(activation=..., weight=...)
"""
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

from torch import nn
from torch.ao.quantization import QConfig
from torch.ao.quantization.fake_quantize import FakeQuantizeBase
from torch.ao.quantization.observer import ObserverBase
from torch.ao.quantization.utils import is_per_tensor

from mmrazor.registry import MODELS, UnknownTypeError
from mmrazor.utils.lookup import closest_names

from .qscheme import QSchemeHandler

FakeQuantFactory = Callable[[], nn.Module]

REQUIRED_KEYS = ('w_qscheme', 'a_qscheme', 'w_fake_quant', 'a_fake_quant', 'w_observer',
                 'a_observer')
# The arguments MinMaxObserver / PerChannelMinMaxObserver take from a qscheme.
RETAIN_ARGS_PER_TENSOR = ('dtype', 'qscheme', 'quant_min', 'quant_max', 'reduce_range')
RETAIN_ARGS_PER_CHANNEL = RETAIN_ARGS_PER_TENSOR + ('ch_axis',)


class QConfigHandler:
    """Build the weight and activation fake-quants that a user-friendly qconfig describes.

    Whether a qscheme is per-channel is inferred from its observer: a class whose name
    contains ``'PerChannel'`` is per-channel. Extra keys of an observer or fake-quant
    dict (besides ``type``) are passed to its constructor.

    Args:
        qconfig (dict | ConfigDict | Config): With exactly the keys ``w_observer``,
            ``a_observer``, ``w_fake_quant``, ``a_fake_quant`` (each ``dict(type=...)``
            naming a registered observer / fake-quant), ``w_qscheme`` and
            ``a_qscheme`` (arguments of :class:`QSchemeHandler`).

    Attributes:
        w_qscheme (QSchemeHandler): The weights' scheme.
        a_qscheme (QSchemeHandler): The activations' scheme.
        w_fake_quant (Callable): Factory of the weights' fake-quant.
        a_fake_quant (Callable): Factory of the activations' fake-quant.
    """

    def __init__(self, qconfig: Mapping) -> None:
        if not hasattr(qconfig, 'keys'):
            raise TypeError(f'qconfig must be a dict, ConfigDict or Config with the keys '
                            f'{list(REQUIRED_KEYS)}, got {type(qconfig).__name__}')
        qconfig = {key: qconfig[key] for key in qconfig.keys()}
        _check_keys(qconfig)
        w_observer, w_observer_args = _resolve(qconfig, 'w_observer', ObserverBase)
        a_observer, a_observer_args = _resolve(qconfig, 'a_observer', ObserverBase)
        w_fake_quant, w_fake_quant_args = _resolve(qconfig, 'w_fake_quant', FakeQuantizeBase)
        a_fake_quant, a_fake_quant_args = _resolve(qconfig, 'a_fake_quant', FakeQuantizeBase)
        self.w_qscheme = _qscheme(qconfig, 'w_qscheme', 'PerChannel' in w_observer.__name__)
        self.a_qscheme = _qscheme(qconfig, 'a_qscheme', 'PerChannel' in a_observer.__name__)
        self.w_fake_quant = _factory(w_fake_quant, w_fake_quant_args, w_observer,
                                     w_observer_args, self.w_qscheme, 'w')
        self.a_fake_quant = _factory(a_fake_quant, a_fake_quant_args, a_observer,
                                     a_observer_args, self.a_qscheme, 'a')

    def weight_fake_quant(self) -> nn.Module:
        """Return a new fake-quant module for a weight."""
        return self.w_fake_quant()

    def activation_fake_quant(self) -> nn.Module:
        """Return a new fake-quant module for an activation."""
        return self.a_fake_quant()

    def convert(self) -> QConfig:
        """Return torch's ``QConfig`` of the two fake-quant factories."""
        return QConfig(activation=self.a_fake_quant, weight=self.w_fake_quant)

    @staticmethod
    def replace_fakequant(fake_quant_org: Optional[nn.Module],
                          qscheme_org: QSchemeHandler,
                          update_qparams: bool = True) -> Union[nn.Module, FakeQuantFactory]:
        """A plain ``FakeQuantize`` with a MinMax observer in place of ``fake_quant_org``.

        Backends run plain fake-quants, so learned (e.g. LSQ) ones are swapped for
        these before deploy.

        Args:
            fake_quant_org (nn.Module, optional): The fake-quant to replace; needed
                only with ``update_qparams``.
            qscheme_org (QSchemeHandler): Its qscheme.
            update_qparams (bool): Return a module carrying the scale, zero point and
                observed min/max of ``fake_quant_org``, rather than a factory.
                Defaults to True.

        Returns:
            nn.Module | Callable: The new fake-quant, or its factory.
        """
        if not isinstance(qscheme_org, QSchemeHandler):
            raise TypeError(f'qscheme_org must be a QSchemeHandler, got '
                            f'{type(qscheme_org).__name__}')
        factory = _fixed_fake_quant_factory(qscheme_org)
        if not update_qparams:
            return factory
        if fake_quant_org is None:
            raise ValueError('replace_fakequant(update_qparams=True) needs the fake-quant '
                             'whose qparams it copies; got None')
        scale = fake_quant_org.scale.detach()
        zero_point = fake_quant_org.zero_point.detach()
        if zero_point.is_floating_point():  # learnable fake-quants keep a float zero point
            zero_point = zero_point.round()
        new = factory().to(scale.device)
        new.scale.resize_(scale.shape).copy_(scale)
        new.zero_point.resize_(zero_point.shape).copy_(zero_point)
        observer, observer_org = new.activation_post_process, fake_quant_org.activation_post_process
        for name in ('min_val', 'max_val'):
            value = getattr(observer_org, name)
            getattr(observer, name).resize_(value.shape).copy_(value)
        return new

    def fixed_w_fakequant(self) -> None:
        """Make the weights' factory build plain MinMax ``FakeQuantize`` modules."""
        self.w_fake_quant = self.replace_fakequant(None, self.w_qscheme, update_qparams=False)


def _check_keys(qconfig: Dict[str, Any]) -> None:
    missing = [key for key in REQUIRED_KEYS if key not in qconfig]
    unknown = [key for key in qconfig if key not in REQUIRED_KEYS]
    if missing or unknown:
        hints = [f'{key!r}' + (f' (did you mean {close[0]!r}?)' if close else '')
                 for key in unknown for close in [closest_names(key, REQUIRED_KEYS, n=1)]]
        problems = ([f'misses {missing}'] if missing else []) + (
            [f'has unknown keys [{", ".join(hints)}]'] if unknown else [])
        raise ValueError(f'qconfig {"; ".join(problems)}; it needs exactly '
                         f'{list(REQUIRED_KEYS)}')
    for key in REQUIRED_KEYS:
        if not isinstance(qconfig[key], dict):
            raise TypeError(f'qconfig[{key!r}] must be a dict, got '
                            f'{type(qconfig[key]).__name__}: {qconfig[key]!r}')


def _registered(base: type) -> Dict[str, type]:
    """The classes registered in mmrazor's MODELS that are subclasses of ``base``."""
    MODELS.import_from_location()
    return {name: cls for name, cls in MODELS.module_dict.items()
            if isinstance(cls, type) and issubclass(cls, base)}


def _resolve(qconfig: Dict[str, Any], key: str, base: type) -> Tuple[type, Dict[str, Any]]:
    """Return the class named by ``qconfig[key]['type']`` and its other arguments."""
    cfg = dict(qconfig[key])
    kind = 'observer' if base is ObserverBase else 'fake-quant'
    if 'type' not in cfg:
        raise KeyError(f"qconfig[{key!r}] needs a 'type' naming a registered {kind}, "
                       f'e.g. {sorted(_registered(base))[:3]}; got keys {sorted(cfg)}')
    obj_type = cfg.pop('type')
    cls = MODELS.get(obj_type) if isinstance(obj_type, str) else obj_type
    valid = _registered(base)
    if cls is None:
        name = obj_type.rpartition('.')[2]
        close = closest_names(name, valid, ignore_case=True) or sorted(valid)
        raise UnknownTypeError(f'Unknown {kind} {obj_type!r} in qconfig[{key!r}]; closest '
                               f'registered {kind}s: {", ".join(close)}')
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise TypeError(f'qconfig[{key!r}] type {obj_type!r} is not a subclass of '
                        f'{base.__name__}; registered {kind}s: {", ".join(sorted(valid))}')
    return cls, cfg


def _qscheme(qconfig: Dict[str, Any], key: str, is_per_channel: bool) -> QSchemeHandler:
    """Build the QSchemeHandler of ``qconfig[key]``; per-channel comes from the observer."""
    args = dict(qconfig[key])
    if args.pop('is_per_channel', is_per_channel) != is_per_channel:
        raise ValueError(f'qconfig[{key!r}] sets is_per_channel, but it follows the '
                         f"observer: per-channel iff its class name contains 'PerChannel' "
                         f'(here {is_per_channel}); remove it or change the observer')
    try:
        return QSchemeHandler(is_per_channel=is_per_channel, **args)
    except ValueError as error:
        raise ValueError(f'qconfig[{key!r}]: {error}') from None


def _factory(fake_quant: type, fake_quant_args: Dict[str, Any], observer: type,
             observer_args: Dict[str, Any], qscheme: QSchemeHandler,
             prefix: str) -> FakeQuantFactory:
    """``fake_quant.with_args(observer=..., **qscheme params)``, checked by building one."""
    params = qscheme.to_observer_params()
    for key, args in ((f'{prefix}_observer', observer_args),
                      (f'{prefix}_fake_quant', fake_quant_args)):
        clashes = sorted(set(args) & {*params, 'observer'})
        if clashes:
            raise ValueError(f'qconfig[{key!r}] sets {clashes}, which {prefix}_qscheme '
                             f'and {prefix}_observer decide; set them there')
    observer_factory = observer.with_args(**observer_args) if observer_args else observer
    factory = fake_quant.with_args(observer=observer_factory, **params, **fake_quant_args)
    try:  # a wrong argument should fail here, with the keys to fix, not in prepare()
        factory()
    except TypeError as error:
        raise TypeError(f'Cannot build {fake_quant.__name__} with {observer.__name__} from '
                        f'qconfig {prefix}_fake_quant / {prefix}_observer / {prefix}_qscheme '
                        f'(qscheme arguments: {sorted(params)}): {error}') from None
    return factory


def _fixed_fake_quant_factory(qscheme: QSchemeHandler) -> FakeQuantFactory:
    """Factory of torch's FakeQuantize with a (per-channel) MinMaxObserver for ``qscheme``."""
    params = qscheme.to_observer_params()
    if is_per_tensor(params['qscheme']):
        observer, retain = MODELS.get('MinMaxObserver'), RETAIN_ARGS_PER_TENSOR
    else:
        observer, retain = MODELS.get('PerChannelMinMaxObserver'), RETAIN_ARGS_PER_CHANNEL
    params = {key: value for key, value in params.items() if key in retain}
    return MODELS.get('FakeQuantize').with_args(observer=observer, **params)
