"""QSchemeHandler ranges and qschemes, and QConfigHandler on MMRazor 1.x's global_qconfig
(MinMax and LSQ variants) down to torch's QAT modules."""
import copy
import itertools

import pytest
import torch
from mmengine.config import Config
from torch.ao.nn.qat import Linear as QATLinear
from torch.ao.quantization import FakeQuantize, MovingAverageMinMaxObserver, QConfig
from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver

from mmrazor.models.fake_quants import LearnableFakeQuantize, enable_param_learning, enable_val
from mmrazor.models.observers import LSQObserver, LSQPerChannelObserver
from mmrazor.structures.quantization import QConfigHandler, QSchemeHandler

# spec §4.4: the global_qconfig of MMRazor 1.x's PTQ/QAT configs, and its LSQ variant
GLOBAL_QCONFIG = dict(
    w_observer=dict(type='mmrazor.PerChannelMinMaxObserver'),
    a_observer=dict(type='mmrazor.MovingAverageMinMaxObserver'),
    w_fake_quant=dict(type='mmrazor.FakeQuantize'),
    a_fake_quant=dict(type='mmrazor.FakeQuantize'),
    w_qscheme=dict(qdtype='qint8', bit=8, is_symmetry=True, is_symmetric_range=True),
    a_qscheme=dict(qdtype='quint8', bit=8, is_symmetry=True, averaging_constant=0.1),
)
LSQ_QCONFIG = dict(
    w_observer=dict(type='mmrazor.LSQPerChannelObserver'),
    a_observer=dict(type='mmrazor.LSQObserver'),
    w_fake_quant=dict(type='mmrazor.LearnableFakeQuantize'),
    a_fake_quant=dict(type='mmrazor.LearnableFakeQuantize'),
    w_qscheme=dict(qdtype='qint8', bit=8, is_symmetry=True, is_symmetric_range=True),
    a_qscheme=dict(qdtype='quint8', bit=8, is_symmetry=True),
)
# (qdtype, bit, is_symmetric_range) -> (quant_min, quant_max), written out
RANGES = {
    ('quint8', 8, False): (0, 255), ('quint8', 8, True): (0, 255),
    ('quint8', 4, False): (0, 15), ('quint8', 4, True): (0, 15),
    ('qint8', 8, False): (-128, 127), ('qint8', 8, True): (-127, 127),
    ('qint8', 4, False): (-8, 7), ('qint8', 4, True): (-7, 7),
}
QSCHEMES = {
    (False, True): torch.per_tensor_symmetric, (False, False): torch.per_tensor_affine,
    (True, True): torch.per_channel_symmetric, (True, False): torch.per_channel_affine,
}


def data(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * 2


def qconfig_with(base: dict, **changes) -> dict:
    """``base`` with ``changes``; a change to None removes the key."""
    qconfig = copy.deepcopy(base)
    qconfig.update(changes)
    return {key: value for key, value in qconfig.items() if value is not None}


@pytest.mark.parametrize('qdtype,bit,is_symmetry,is_symmetric_range,is_per_channel',
                         itertools.product(['quint8', 'qint8'], [4, 8], [True, False],
                                           [False, True], [False, True]))
def test_qscheme_handler_ranges_and_qschemes(qdtype, bit, is_symmetry, is_symmetric_range,
                                             is_per_channel):
    handler = QSchemeHandler(qdtype=qdtype, bit=bit, is_symmetry=is_symmetry,
                             is_per_channel=is_per_channel,
                             is_symmetric_range=is_symmetric_range)
    quant_min, quant_max = RANGES[qdtype, bit, is_symmetric_range]
    expected = dict(dtype=getattr(torch, qdtype), quant_min=quant_min, quant_max=quant_max,
                    qscheme=QSCHEMES[is_per_channel, is_symmetry], reduce_range=False)
    if is_per_channel:
        expected['ch_axis'] = 0
    params = handler.to_observer_params()
    assert params == expected
    # torch's observers accept them, and fake-quantized data takes at most 2^bit values
    observer = (PerChannelMinMaxObserver if is_per_channel else MinMaxObserver)(**params)
    x = data(2, 1000, seed=0)
    observer(x)
    scale, zero_point = observer.calculate_qparams()
    if is_per_channel:
        y = torch.fake_quantize_per_channel_affine(x, scale, zero_point.int(), 0, quant_min,
                                                   quant_max)
    else:
        y = torch.fake_quantize_per_tensor_affine(x, scale, zero_point.int(), quant_min,
                                                  quant_max)
    for row in y:
        assert len(row.unique()) <= quant_max - quant_min + 1 <= 2**bit


def test_qscheme_handler_defaults_match_mmrazor_and_pass_extra_kwargs():
    handler = QSchemeHandler(averaging_constant=0.1)
    assert (handler.qdtype, handler.bit, handler.is_symmetry, handler.is_per_channel,
            handler.is_symmetric_range) == ('quint8', 8, True, False, False)
    assert handler.to_observer_params()['averaging_constant'] == 0.1


def test_qscheme_handler_bad_input():
    with pytest.raises(ValueError, match=r"qdtype must be one of \['quint8', 'qint8'\], "
                       "got 'int8'"):
        QSchemeHandler(qdtype='int8')
    with pytest.raises(ValueError, match=r'bit must be an int from 2 to 8 .*got 16'):
        QSchemeHandler(bit=16)
    with pytest.raises(ValueError, match=r"computes \['quant_min'\] from qdtype, bit"):
        QSchemeHandler(quant_min=-3)


def test_global_qconfig_gives_per_channel_qint8_weights_and_quint8_activations():
    handler = QConfigHandler(GLOBAL_QCONFIG)
    assert handler.w_qscheme.is_per_channel and not handler.a_qscheme.is_per_channel
    weight_fq = handler.weight_fake_quant()
    assert weight_fq is not handler.weight_fake_quant()  # a new module each call
    assert type(weight_fq) is FakeQuantize
    assert type(weight_fq.activation_post_process) is PerChannelMinMaxObserver
    assert (weight_fq.dtype, weight_fq.qscheme, weight_fq.ch_axis) == (
        torch.qint8, torch.per_channel_symmetric, 0)
    assert (weight_fq.quant_min, weight_fq.quant_max) == (-127, 127)
    act_fq = handler.activation_fake_quant()
    assert type(act_fq.activation_post_process) is MovingAverageMinMaxObserver
    assert act_fq.activation_post_process.averaging_constant == 0.1
    assert (act_fq.dtype, act_fq.qscheme, act_fq.quant_min, act_fq.quant_max) == (
        torch.quint8, torch.per_tensor_symmetric, 0, 255)


def test_converted_qconfig_quantizes_like_torch_built_by_hand():
    qconfig = QConfigHandler(Config(dict(global_qconfig=GLOBAL_QCONFIG)).global_qconfig).convert()
    assert isinstance(qconfig, QConfig)

    def by_hand() -> FakeQuantize:
        return FakeQuantize(observer=PerChannelMinMaxObserver, quant_min=-127, quant_max=127,
                            dtype=torch.qint8, qscheme=torch.per_channel_symmetric, ch_axis=0)

    weight = data(8, 4, seed=1)
    assert torch.equal(qconfig.weight()(weight), by_hand()(weight))
    # torch's QAT Linear takes the qconfig and fake-quantizes its weight with it
    linear = QATLinear(4, 8, qconfig=qconfig)
    x = data(2, 4, seed=2)
    expected = torch.nn.functional.linear(x, by_hand()(linear.weight), linear.bias)
    assert torch.equal(linear(x), expected)
    act_by_hand = FakeQuantize(observer=MovingAverageMinMaxObserver, quant_min=0,
                               quant_max=255, dtype=torch.quint8,
                               qscheme=torch.per_tensor_symmetric, averaging_constant=0.1)
    act = qconfig.activation()
    for seed in range(3):
        y = data(5, 4, seed=seed)
        assert torch.equal(act(y), act_by_hand(y))


def test_lsq_qconfig_learns_the_weight_scale_in_a_qat_linear():
    handler = QConfigHandler(LSQ_QCONFIG)
    weight_fq = handler.weight_fake_quant()
    assert type(weight_fq) is LearnableFakeQuantize
    assert type(weight_fq.activation_post_process) is LSQPerChannelObserver
    assert (weight_fq.dtype, weight_fq.qscheme, weight_fq.quant_min, weight_fq.quant_max) == (
        torch.qint8, torch.per_channel_symmetric, -127, 127)
    act_fq = handler.activation_fake_quant()
    assert type(act_fq.activation_post_process) is LSQObserver
    assert (act_fq.dtype, act_fq.quant_min, act_fq.quant_max) == (torch.quint8, 0, 255)

    linear = QATLinear(4, 8, qconfig=handler.convert())
    x = data(16, 4, seed=3)
    linear(x)  # first batch: LSQ initial per-channel scale from the weights
    initial = linear.weight_fake_quant.scale.detach().clone()
    assert initial.shape == (8, )
    linear.apply(enable_param_learning)
    optimizer = torch.optim.SGD(linear.parameters(), lr=0.1)
    linear(x).square().sum().backward()
    optimizer.step()
    assert not torch.equal(linear.weight_fake_quant.scale.detach(), initial)
    linear.apply(enable_val)
    assert not linear.weight_fake_quant.scale.requires_grad


def test_replace_fakequant_keeps_the_learned_qparams():
    handler = QConfigHandler(LSQ_QCONFIG)
    learned = handler.weight_fake_quant()
    weight = data(6, 3, seed=4)
    learned(weight)
    learned.enable_val()
    plain = QConfigHandler.replace_fakequant(learned, handler.w_qscheme)
    assert type(plain) is FakeQuantize
    assert type(plain.activation_post_process) is PerChannelMinMaxObserver
    plain.disable_observer()
    torch.testing.assert_close(plain.scale, learned.scale.detach())
    assert torch.equal(plain(weight), learned(weight))

    handler.fixed_w_fakequant()
    fixed = handler.weight_fake_quant()
    assert type(fixed) is FakeQuantize and fixed.qscheme == torch.per_channel_symmetric
    with pytest.raises(ValueError, match='needs the fake-quant whose qparams it copies'):
        QConfigHandler.replace_fakequant(None, handler.w_qscheme)


@pytest.mark.parametrize('changes,error,match', [
    (dict(w_observer=None, w_obsever=dict(type='mmrazor.MinMaxObserver')), ValueError,
     r"qconfig misses \['w_observer'\]; has unknown keys \['w_obsever' \(did you mean "
     r"'w_observer'\?\)\]; it needs exactly \['w_qscheme'"),
    (dict(a_qscheme=None), ValueError, r"qconfig misses \['a_qscheme'\]; it needs exactly"),
    (dict(w_observer=dict(type='mmrazor.PerChanelMinMaxObserver')), KeyError,
     r"Unknown observer 'mmrazor.PerChanelMinMaxObserver' in qconfig\['w_observer'\]; "
     r'closest registered observers: PerChannelMinMaxObserver'),
    (dict(a_fake_quant=dict(type='LearnableFakeQuantise')), KeyError,
     r"Unknown fake-quant 'LearnableFakeQuantise' .*: LearnableFakeQuantize"),
    (dict(w_observer=dict(type='mmrazor.FakeQuantize')), TypeError,
     r"qconfig\['w_observer'\] type 'mmrazor.FakeQuantize' is not a subclass of "
     r'ObserverBase; registered observers: .*LSQObserver'),
    (dict(a_observer=dict()), KeyError, r"qconfig\['a_observer'\] needs a 'type'"),
    (dict(w_qscheme='qint8'), TypeError, r"qconfig\['w_qscheme'\] must be a dict"),
    (dict(w_qscheme=dict(qdtype='int4')), ValueError,
     r"qconfig\['w_qscheme'\]: qdtype must be one of \['quint8', 'qint8'\]"),
    (dict(w_qscheme=dict(qdtype='qint8', is_per_channel=False)), ValueError,
     r"sets is_per_channel, but it follows the observer"),
    (dict(a_observer=dict(type='mmrazor.LSQObserver')), TypeError,
     r"Cannot build FakeQuantize with LSQObserver .*unexpected keyword argument "
     r"'averaging_constant'"),
    (dict(a_observer=dict(type='mmrazor.MovingAverageMinMaxObserver', quant_max=7)),
     ValueError, r"qconfig\['a_observer'\] sets \['quant_max'\]"),
])
def test_qconfig_handler_bad_input(changes, error, match):
    with pytest.raises(error, match=match):
        QConfigHandler(qconfig_with(GLOBAL_QCONFIG, **changes))


def test_qconfig_must_be_a_mapping_and_may_be_an_mmengine_config():
    with pytest.raises(TypeError, match=r"qconfig must be a dict, ConfigDict or Config with "
                       r"the keys \['w_qscheme'.*got list"):
        QConfigHandler([GLOBAL_QCONFIG])
    handler = QConfigHandler(Config(GLOBAL_QCONFIG))
    assert handler.w_qscheme.is_per_channel and handler.a_qscheme.kwargs == dict(
        averaging_constant=0.1)


def test_observer_and_fake_quant_arguments_reach_their_constructors():
    handler = QConfigHandler(qconfig_with(
        LSQ_QCONFIG, a_fake_quant=dict(type='mmrazor.LearnableFakeQuantize',
                                       use_grad_scaling=False, zero_point_trainable=True)))
    act_fq = handler.activation_fake_quant()
    assert not act_fq.use_grad_scaling and act_fq.zero_point_trainable
    assert not handler.weight_fake_quant().zero_point_trainable
