"""Every public KD constructor takes MMRazor 1.x's arguments with MMRazor 1.x's defaults.

A config written for MMRazor 1.x names arguments and relies on defaults; a missing,
renamed or differently defaulted argument silently changes what it means. The table
below is transcribed from MMRazor 1.x (open-mmlab/mmrazor 1.0.0: spec sections 3.5-3.10
and 3.14, its sources where the spec is silent) and lives here because CI checks out
only this repository.

Rules: every MMRazor argument must exist here under the same name; where MMRazor has a
default ours must have the same one. Where MMRazor requires an argument, ours may
require it or default it (every MMRazor config passes it, so its meaning is kept).
Extra optional arguments of ours are allowed; argument order is not checked (configs
pass keywords).
"""
import inspect
from typing import Any, Dict, List

import pytest

import mmrazor.engine.hooks as hooks
import mmrazor.engine.runner as loops
import mmrazor.models.algorithms as algorithms
import mmrazor.models.algorithms.distill as kd_algorithms
import mmrazor.models.architectures.connectors as connectors
import mmrazor.models.distillers as distillers
import mmrazor.models.losses as losses
import mmrazor.models.task_modules.delivery as deliveries
import mmrazor.models.task_modules.recorder as recorders

REQUIRED = inspect.Parameter.empty
INIT_CFG = dict(init_cfg=None)
ALGORITHM = dict(architecture=REQUIRED, data_preprocessor=None, module_inplace=False,
                 init_cfg=None)
SINGLE_TEACHER = dict(distiller=REQUIRED, teacher=REQUIRED, teacher_ckpt=None,
                      teacher_trainable=False, teacher_norm_eval=True,
                      student_trainable=True, calculate_student_loss=True,
                      teacher_module_inplace=False, **ALGORITHM)
DATA_FREE = dict(distiller=REQUIRED, generator_distiller=REQUIRED, teachers=REQUIRED,
                 generator=REQUIRED, student_iter=1, student_train_first=False,
                 **ALGORITHM)
DISTILLER = dict(student_recorders=None, teacher_recorders=None, distill_deliveries=None,
                 connectors=None, distill_losses=None, loss_forward_mappings=None)
FBKD = dict(in_channels=REQUIRED, reduction=2, conv_cfg=dict(type='Conv2d'),
            norm_cfg=dict(type='BN'), mode='dot_product', sub_sample=False,
            maxpool_stride=2, zeros_init=True, spatial_T=0.5, channel_T=0.5, **INIT_CFG)
VAL_LOOP = dict(runner=REQUIRED, dataloader=REQUIRED, evaluator=REQUIRED, fp16=False)
SOURCE = dict(source=REQUIRED)

# module: {class: {argument: MMRazor 1.x default, or REQUIRED}}
MMRAZOR: Dict[Any, Dict[str, Dict[str, Any]]] = {
    recorders: {
        'BaseRecorder': SOURCE,
        'FunctionInputsRecorder': SOURCE,
        'FunctionOutputsRecorder': SOURCE,
        'MethodInputsRecorder': SOURCE,
        'MethodOutputsRecorder': SOURCE,
        'ModuleInputsRecorder': SOURCE,
        'ModuleOutputsRecorder': SOURCE,
        'ParameterRecorder': SOURCE,
        'RecorderManager': dict(recorders=None),
    },
    deliveries: {
        'DistillDelivery': dict(max_keep_data=1),
        'FunctionOutputsDelivery': dict(func_path=REQUIRED, max_keep_data=REQUIRED),
        'MethodOutputsDelivery': dict(method_path=REQUIRED, max_keep_data=REQUIRED),
        'DistillDeliveryManager': dict(deliveries=None),
    },
    connectors: {
        'BaseConnector': INIT_CFG,
        'ConvModuleConnector': dict(
            in_channel=REQUIRED, out_channel=REQUIRED, kernel_size=1, stride=1, padding=0,
            dilation=1, groups=1, bias='auto', conv_cfg=None, norm_cfg=None,
            act_cfg=dict(type='ReLU'), inplace=True, with_spectral_norm=False,
            padding_mode='zeros', order=('conv', 'norm', 'act'), **INIT_CFG),
        'NormConnector': dict(in_channels=REQUIRED, norm_cfg=REQUIRED, **INIT_CFG),
        'TorchFunctionalConnector': dict(function_name=None, func_args={}, **INIT_CFG),
        'TorchNNConnector': dict(module_name=None, module_args={}, **INIT_CFG),
        'OFDTeacherConnector': INIT_CFG,
        'BYOTConnector': dict(in_channel=REQUIRED, out_channel=REQUIRED,
                              num_classes=REQUIRED, expansion=4, pool_size=4,
                              kernel_size=3, stride=1, **INIT_CFG),
        'CRDConnector': dict(dim_in=1024, dim_out=128, **INIT_CFG),
        'Paraphraser': dict(in_channel=REQUIRED, out_channel=REQUIRED, phase='pretrain',
                            use_bn=False, **INIT_CFG),
        'Translator': dict(in_channel=REQUIRED, out_channel=REQUIRED, use_bn=True,
                           **INIT_CFG),
        'FBKDStudentConnector': FBKD,
        'FBKDTeacherConnector': FBKD,
        'MGDConnector': dict(student_channels=REQUIRED, teacher_channels=REQUIRED,
                             lambda_mgd=0.65, mask_on_channel=False, **INIT_CFG),
    },
    distillers: {
        'BaseDistiller': INIT_CFG,
        'ConfigurableDistiller': DISTILLER,
        'BYOTDistiller': DISTILLER,
        'OFDDistiller': DISTILLER,
    },
    losses: {
        'KLDivergence': dict(tau=1.0, reduction='batchmean', loss_weight=1.0,
                             teacher_detach=True),
        'ChannelWiseDivergence': dict(tau=1.0, loss_weight=1.0),
        'DKDLoss': dict(tau=1.0, alpha=1.0, beta=1.0, reduction='batchmean',
                        loss_weight=1.0),
        'WSLD': dict(tau=1.0, loss_weight=1.0, num_classes=1000),
        'KDSoftCELoss': dict(tau=1.0, reduction='mean', mult_tem_square=True,
                             loss_weight=1.0),
        'DISTLoss': dict(inter_loss_weight=1.0, intra_loss_weight=1.0, tau=1.0,
                         loss_weight=1.0, teacher_detach=True),
        'CrossEntropyLoss': dict(loss_weight=1.0),
        'L1Loss': dict(loss_weight=1.0, size_average=None, reduce=None, reduction='mean'),
        'L2Loss': dict(loss_weight=1.0, normalize=True, mult=1.0, div_element=False,
                       dist=False),
        'ABLoss': dict(loss_weight=1.0, margin=1.0),
        'ATLoss': dict(loss_weight=1.0),
        'OFDLoss': dict(loss_weight=1.0, mul_factor=1000),
        'FTLoss': dict(loss_weight=1.0),
        'FBKDLoss': dict(mask_l2_weight=7e-5, channel_weight=4e-3, spatial_weight=4e-3,
                         nonloacl_weight=7e-5, loss_weight=1.0),
        'MGDLoss': dict(alpha_mgd=2e-5),
        'PKDLoss': dict(loss_weight=1.0, resize_stu=True),
        'DistanceWiseRKD': dict(loss_weight=25.0, with_l2_norm=True),
        'AngleWiseRKD': dict(loss_weight=50.0, with_l2_norm=True),
        'CRDLoss': dict(loss_weight=1.0, temperature=0.07, neg_num=16384, sample_n=50000,
                        dim_out=128, momentum=0.5),
        'OnehotLikeLoss': dict(loss_weight=1.0),
        'InformationEntropyLoss': dict(gather=True, loss_weight=1.0),
        'ActivationLoss': dict(loss_weight=1.0, norm_type='abs'),
    },
    algorithms: {
        'BaseAlgorithm': ALGORITHM,
        'SingleTeacherDistill': SINGLE_TEACHER,
        'FpnTeacherDistill': SINGLE_TEACHER,
        'OverhaulFeatureDistillation': SINGLE_TEACHER,
        'SelfDistill': dict(distiller=REQUIRED, student_trainable=True,
                            calculate_student_loss=True, **ALGORITHM),
        'DataFreeDistillation': DATA_FREE,
        'DAFLDataFreeDistillation': DATA_FREE,
    },
    hooks: {
        'StopDistillHook': dict(stop_epoch=REQUIRED),
        'RazorVisualizationHook': dict(
            recorders=REQUIRED, mappings=REQUIRED, enabled=False, data_idx=0, interval=1,
            show=False, wait_time=0.1, out_dir=None,
            file_client_args=dict(backend='disk'), is_overlaid=True,
            visualization_cfg=dict(channel_reduction='pixel_wise_max', topk=20,
                                   arrangement=(4, 5), resize_shape=None, alpha=0.5),
            use_norm=False),
    },
    loops: {
        'SingleTeacherDistillValLoop': VAL_LOOP,
        'SelfDistillValLoop': VAL_LOOP,
    },
}
CASES = [pytest.param(module, name, id=f'{module.__name__.rpartition(".")[2]}.{name}')
         for module, table in MMRAZOR.items() for name in table]


def our_parameters(cls: type) -> Dict[str, inspect.Parameter]:
    """The keyword arguments ``cls(...)`` accepts: an ``__init__`` that forwards
    ``**kwargs`` also accepts those of the next ``__init__`` in the MRO."""
    params: Dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        forwards = False
        for name, param in inspect.signature(klass.__init__).parameters.items():
            if param.kind is param.VAR_KEYWORD:
                forwards = True
            elif param.kind is not param.VAR_POSITIONAL and name != 'self':
                params.setdefault(name, param)
        if not forwards:
            break
    return params


def mismatches(cls: type, expected: Dict[str, Any]) -> List[str]:
    """One line per MMRazor argument that ours lacks or defaults differently."""
    ours = our_parameters(cls)
    problems = []
    for arg, default in expected.items():
        mmrazor_text = 'required' if default is REQUIRED else f'default {default!r}'
        if arg not in ours:
            problems.append(f'{cls.__name__}: argument {arg!r}: ours missing, MMRazor '
                            f'{mmrazor_text}')
        elif default is not REQUIRED and (ours[arg].default is REQUIRED
                                          or ours[arg].default != default
                                          or type(ours[arg].default) is not type(default)
                                          and not isinstance(default, float)):
            ours_text = ('required' if ours[arg].default is REQUIRED else
                         f'default {ours[arg].default!r}')
            problems.append(f'{cls.__name__}: argument {arg!r}: ours {ours_text}, '
                            f'MMRazor {mmrazor_text}')
    return problems


@pytest.mark.parametrize('module, name', CASES)
def test_constructor_matches_mmrazor(module, name):
    problems = mismatches(getattr(module, name), MMRAZOR[module][name])
    assert not problems, '\n'.join(problems)


@pytest.mark.parametrize('module', [recorders, deliveries, connectors, distillers, losses,
                                    kd_algorithms])
def test_every_public_kd_class_is_in_the_table(module):
    table = {name for table in MMRAZOR.values() for name in table}
    public = {name for name in module.__all__ if inspect.isclass(getattr(module, name))}
    assert public - table == set(), 'add these to the MMRazor table'


def test_a_changed_default_is_reported_with_both_values():
    class Stricter(losses.KLDivergence):

        def __init__(self, tau: float = 2.0, loss_weight: float = 1.0) -> None:
            super().__init__(tau=tau, loss_weight=loss_weight)

    problems = mismatches(Stricter, MMRAZOR[losses]['KLDivergence'])
    assert problems == [
        "Stricter: argument 'tau': ours default 2.0, MMRazor default 1.0",
        "Stricter: argument 'reduction': ours missing, MMRazor default 'batchmean'",
        "Stricter: argument 'teacher_detach': ours missing, MMRazor default True"]
    assert mismatches(connectors.NormConnector, dict(in_channels=REQUIRED, momentum=0.1)) \
        == ["NormConnector: argument 'momentum': ours missing, MMRazor default 0.1"]
