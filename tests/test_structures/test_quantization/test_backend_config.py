"""Backend configs: MMRazor 1.x's ``get_*_backend_config`` and ``BackendConfigs``, as
torch.ao ``BackendConfig``s of what our quantizers quantize, checked by running
torch.ao's own ``prepare_fx`` / ``convert_fx`` with them on a real mmpretrain model."""
import collections
import copy
import warnings

import pytest
import torch
from torch.ao.quantization import QConfigMapping
from torch.ao.quantization.backend_config import BackendConfig
from torch.ao.quantization.fake_quantize import FakeQuantizeBase

from mmrazor.registry import MODELS
from mmrazor.structures.quantization import (
    BACKEND_DTYPES,
    BackendConfigs,
    QConfigHandler,
    QuantizationPolicy,
    backend_config,
    build_backend_config,
)
from mmrazor.utils.lookup import ImportPathError
from tests.test_models.test_quantizers.helpers import (
    GLOBAL_QCONFIG,
    calibrate,
    prepared_tensor_graph,
    small_classifier,
)

SIGNED_QCONFIG = dict(GLOBAL_QCONFIG, a_qscheme=dict(qdtype='qint8', bit=8, is_symmetry=True))
# MMRazor 1.x's names: get_<backend>_backend_config and get_<backend>_backend_config_dict
GETTERS = {backend: (getattr(backend_config, f'get_{backend}_backend_config'),
                     getattr(backend_config, f'get_{backend}_backend_config_dict'))
           for backend in ('native', 'openvino', 'tensorrt', 'academic')}


def _patterns(config: BackendConfig) -> list:
    return [c.pattern for c in config.configs]


def _quantizer(qconfig=GLOBAL_QCONFIG, type='mmrazor.TorchNativeQuantizer', **kwargs):
    return MODELS.build(dict(type=type, global_qconfig=qconfig, **kwargs))


def _torch_ao_prepared(quantizer, model, backend_config, qconfig=None):
    """torch.ao's ``prepare_fx`` of ``model``'s float tensor graph with our qconfig
    (the quantizer's, or the ``QConfigHandler`` ``qconfig``)."""
    from torch.ao.quantization.quantize_fx import prepare_fx
    example = torch.rand(2, 1, 16, 16)
    graph = quantizer.trace(copy.deepcopy(model), {'inputs': example, 'data_samples': None},
                            {'mode': 'tensor'})
    qconfig = quantizer.qconfig if qconfig is None else qconfig
    mapping = QConfigMapping().set_global(qconfig.convert())
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # torch.ao.quantization's deprecation notices
        return prepare_fx(graph, mapping, (example, ), backend_config=backend_config)


def _quantized_modules(model: torch.nn.Module) -> collections.Counter:
    return collections.Counter(
        f'{type(m).__module__}.{type(m).__name__}' for m in model.modules()
        if type(m).__module__.startswith(('torch.ao.nn.quantized', 'torch.ao.nn.intrinsic.q')))


@pytest.mark.parametrize('backend', sorted(GETTERS))
def test_each_backend_config_has_its_name_and_int8_dtypes(backend):
    get, get_dict = GETTERS[backend]
    config = get()
    assert config.name == backend
    assert _patterns(BackendConfigs[backend]) == _patterns(config)
    assert _patterns(BackendConfig.from_dict(get_dict())) == _patterns(config)
    activations, weights = BACKEND_DTYPES[backend]
    conv = next(c for c in config.configs if c.pattern is torch.nn.Conv2d)
    assert {(d.input_dtype, d.weight_dtype) for d in conv.dtype_configs} == {
        (a, w) for a in activations for w in weights}
    add = next(c for c in config.configs if c.pattern is torch.add)
    assert {d.input_dtype for d in add.dtype_configs} == set(activations)
    assert all(d.weight_dtype is None for d in add.dtype_configs)


def test_torch_ao_with_our_native_config_builds_the_int8_model_we_build():
    """Same quantized layers (conv+BN+ReLU fused alike) and the same outputs."""
    from torch.ao.quantization.quantize_fx import convert_fx
    quantizer, model = _quantizer(), small_classifier()
    torch.manual_seed(1)
    batches = [torch.rand(4, 1, 16, 16) for _ in range(4)]
    _, ours = prepared_tensor_graph(quantizer, model)
    calibrate(ours, batches)
    ours_int8 = quantizer.convert_to_int8(ours)
    theirs = _torch_ao_prepared(quantizer, model, backend_config.get_native_backend_config())
    calibrate(theirs, batches)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        theirs_int8 = convert_fx(theirs, backend_config=backend_config.get_native_backend_config())
    counts = _quantized_modules(ours_int8)
    assert counts == _quantized_modules(theirs_int8)
    assert counts['torch.ao.nn.intrinsic.quantized.modules.conv_relu.ConvReLU2d'] == 5
    assert counts['torch.ao.nn.quantized.modules.linear.Linear'] == 1
    x = torch.rand(3, 1, 16, 16)
    step = theirs_int8.head.fc.scale  # the output's quantization step
    assert (ours_int8(x) - theirs_int8(x)).abs().max() <= 4 * step


@pytest.mark.parametrize('backend,quantizes_unsigned,quantizes_signed',
                         [('native', True, False), ('openvino', True, False),
                          ('tensorrt', False, True), ('academic', True, True)])
def test_the_dtypes_decide_what_torch_ao_quantizes(backend, quantizes_unsigned,
                                                  quantizes_signed):
    model = small_classifier()
    for qconfig, expected in ((GLOBAL_QCONFIG, quantizes_unsigned),
                              (SIGNED_QCONFIG, quantizes_signed)):
        prepared = _torch_ao_prepared(_quantizer(), model, BackendConfigs[backend],
                                      QConfigHandler(qconfig))
        fake_quants = sum(isinstance(m, FakeQuantizeBase) for m in prepared.modules())
        assert (fake_quants > 0) == expected, (backend, qconfig['a_qscheme'])


def test_a_quantizers_backend_config_follows_its_settings():
    from torch.ao.quantization.quantize_fx import convert_fx
    model = small_classifier()
    floats = _quantizer(type='mmrazor.OpenVINOQuantizer', no_observer_modules=['torch.nn.Linear'])
    assert floats.backend_config.name == 'openvino'
    assert not [p for p in _patterns(floats.backend_config) if 'Linear' in str(p)]
    assert torch.nn.Linear in _patterns(_quantizer().backend_config)
    prepared = _torch_ao_prepared(floats, model, floats.backend_config)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        int8 = convert_fx(prepared, backend_config=floats.backend_config)
    assert type(int8.head.fc) is torch.nn.Linear
    # the dotted path names the class in our own graph too
    _, graph = prepared_tensor_graph(floats, model)
    assert all(type(m).__name__ != 'QLinear' for m in graph.modules())
    with pytest.raises(ImportPathError, match='torch.nn.Linearr'):
        _quantizer(no_observer_modules=['torch.nn.Linearr'])


def test_policy_fusions_and_unknown_backends():
    fused = (torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.ReLU)
    assert fused in _patterns(build_backend_config('native'))
    unfused = build_backend_config('native', QuantizationPolicy(fuse_relu=False))
    assert fused not in _patterns(unfused)
    assert (torch.nn.Conv2d, torch.nn.BatchNorm2d) in _patterns(unfused)
    with pytest.raises(KeyError, match=r"unknown quantization backend 'snpe'.*'native'"):
        build_backend_config('snpe')
