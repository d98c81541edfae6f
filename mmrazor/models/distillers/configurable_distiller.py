"""``ConfigurableDistiller``: recorders + connectors + losses wired by a config.

Example (logits KD)::

    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(loss_kl=dict(type='KLDivergence', tau=4, loss_weight=3)),
        loss_forward_mappings=dict(loss_kl=dict(
            preds_S=dict(from_student=True, recorder='fc'),
            preds_T=dict(from_student=False, recorder='fc'))))
"""
import inspect
from typing import Any, Dict, List, Optional, Union

import torch
import torch.nn as nn

from mmrazor.models.task_modules.delivery import DistillDeliveryManager
from mmrazor.models.task_modules.recorder import RecorderManager
from mmrazor.registry import MODELS
from mmrazor.utils.lookup import closest_names

from .base_distiller import BaseDistiller

# The keys one entry of ``loss_forward_mappings`` may hold (see ``get_record``).
MAPPING_KEYS = ('recorder', 'from_student', 'record_idx', 'data_idx', 'connector',
                'connector_idx')


def _closest(name: str, valid: List[str]) -> str:
    """`` (did you mean 'x'?)`` for the valid name most like ``name``, ignoring case."""
    close = closest_names(name, valid, n=1, ignore_case=True)
    return f' (did you mean {close[0]!r}?)' if close else ''


@MODELS.register_module()
class ConfigurableDistiller(BaseDistiller):
    """Distill by recording tensors of student and teacher and feeding them to losses.

    Args:
        student_recorders (dict, optional): name -> recorder config, recorded while
            the student runs (``type`` without the ``Recorder`` suffix).
        teacher_recorders (dict, optional): the same for the teacher.
        distill_deliveries (dict, optional): name -> delivery config; a delivery
            replays a teacher-side function/method output during the student run.
        connectors (dict, optional): name -> connector config (a list of configs
            makes an ``nn.Sequential``); they adapt recorded features before a loss.
        distill_losses (dict, optional): name -> loss config. Names must contain
            ``'loss'``, since MMEngine back-propagates only such keys.
        loss_forward_mappings (dict, optional): loss name -> {forward argument ->
            dict(recorder=..., from_student=bool, record_idx=0, data_idx=None,
            connector=None, connector_idx=None)}. Checked at build time against
            each loss's ``forward`` signature.
        init_cfg (dict, optional): MMEngine weight-init config.
    """

    def __init__(self,
                 student_recorders: Optional[Dict[str, Dict]] = None,
                 teacher_recorders: Optional[Dict[str, Dict]] = None,
                 distill_deliveries: Optional[Dict[str, Dict]] = None,
                 connectors: Optional[Dict[str, Union[Dict, List[Dict]]]] = None,
                 distill_losses: Optional[Dict[str, Dict]] = None,
                 loss_forward_mappings: Optional[Dict[str, Dict]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        self.student_recorders = RecorderManager(student_recorders)
        self.teacher_recorders = RecorderManager(teacher_recorders)
        self.deliveries = DistillDeliveryManager(distill_deliveries)
        self.distill_losses = self.build_distill_losses(distill_losses)
        self.connectors = self.build_connectors(connectors)
        self.loss_forward_mappings = dict(loss_forward_mappings or {})
        self._check_loss_forward_mappings()

    # -- building ---------------------------------------------------------------------
    @staticmethod
    def build_distill_losses(losses: Optional[Dict[str, Dict]]) -> nn.ModuleDict:
        """Build the losses; a name without ``'loss'`` would silently never train."""
        built = nn.ModuleDict()
        for name, cfg in (losses or {}).items():
            if 'loss' not in name:
                raise ValueError(
                    f'Distill loss name {name!r} must contain "loss": MMEngine only '
                    'back-propagates outputs whose key contains "loss" (e.g. '
                    f'"loss_{name}").')
            built[name] = cfg if isinstance(cfg, nn.Module) else MODELS.build(cfg)
        return built

    @staticmethod
    def build_connectors(connectors: Optional[Dict]) -> nn.ModuleDict:
        """Build each connector; a list of configs becomes an ``nn.Sequential``."""
        built = nn.ModuleDict()
        for name, cfg in (connectors or {}).items():
            if isinstance(cfg, (list, tuple)):
                built[name] = nn.Sequential(*[MODELS.build(c) for c in cfg])
            else:
                built[name] = cfg if isinstance(cfg, nn.Module) else MODELS.build(cfg)
        return built

    def _check_loss_forward_mappings(self) -> None:
        """Say, at build time, which mapping is wrong and what is valid."""
        losses = list(self.distill_losses)
        for loss_name, mapping in self.loss_forward_mappings.items():
            if loss_name not in self.distill_losses:
                raise KeyError(f'loss_forward_mappings has {loss_name!r}, which is not '
                               f'a distill loss{_closest(loss_name, losses)}; distill '
                               f'losses: {losses}')
            if not isinstance(mapping, dict):
                raise TypeError(f'loss_forward_mappings[{loss_name!r}] must be a dict of '
                                f'forward argument -> record config, got {type(mapping)}')
            loss = self.distill_losses[loss_name]
            params = inspect.signature(loss.forward).parameters
            required = [n for n, p in params.items() if p.default is inspect.Parameter.empty
                        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
            for arg, record in mapping.items():
                where = f'loss_forward_mappings[{loss_name!r}][{arg!r}]'
                if arg not in params:
                    raise KeyError(f'{where}: {type(loss).__name__}.forward has no argument '
                                   f'{arg!r}{_closest(arg, list(params))}; its arguments: '
                                   f'{list(params)}')
                self._check_record(where, record)
            missing = [n for n in required if n not in mapping]
            if missing:
                raise KeyError(f'loss_forward_mappings[{loss_name!r}] does not map the '
                               f'required argument(s) {missing} of '
                               f'{type(loss).__name__}.forward')

    def _check_record(self, where: str, record: Any) -> None:
        if not isinstance(record, dict):
            raise TypeError(f'{where} must be a dict like dict(recorder=..., '
                            f'from_student=True), got {record!r}')
        unknown = [k for k in record if k not in MAPPING_KEYS]
        if unknown:
            hint = _closest(unknown[0], list(MAPPING_KEYS))
            raise KeyError(f'{where} has unknown key(s) {unknown}{hint}; '
                           f'valid keys: {list(MAPPING_KEYS)}')
        if 'recorder' not in record or not isinstance(record.get('from_student'), bool):
            raise KeyError(f'{where} needs "recorder" (a recorder name) and '
                           f'"from_student" (True or False); got {record}')
        side = 'student' if record['from_student'] else 'teacher'
        manager = self.student_recorders if record['from_student'] else self.teacher_recorders
        names = list(manager.recorders)
        if record['recorder'] not in manager.recorders:
            raise KeyError(f'{where} names {side} recorder {record["recorder"]!r}, which does '
                           f'not exist{_closest(record["recorder"], names)}; {side} '
                           f'recorders: {names}')
        connector = record.get('connector')
        if connector is not None and connector not in self.connectors:
            raise KeyError(f'{where} names connector {connector!r}, which does not exist'
                           f'{_closest(connector, list(self.connectors))}; connectors: '
                           f'{list(self.connectors)}')

    # -- running ----------------------------------------------------------------------
    def set_deliveries_override(self, override: bool) -> None:
        """True: deliveries replay recorded outputs; False: they record them."""
        self.deliveries.override_data = override

    def prepare_from_student(self, model: nn.Module) -> None:
        """Attach the student recorders (validates their sources)."""
        self.student_recorders.initialize(model)

    def prepare_from_teacher(self, model: nn.Module) -> None:
        """Attach the teacher recorders (validates their sources)."""
        self.teacher_recorders.initialize(model)

    def get_record(self,
                   recorder: str,
                   from_student: bool,
                   record_idx: int = 0,
                   data_idx: Optional[int] = None,
                   connector: Optional[str] = None,
                   connector_idx: Optional[int] = None) -> Any:
        """One recorded value, optionally passed through a connector."""
        manager = self.student_recorders if from_student else self.teacher_recorders
        record = manager.get_recorder(recorder).get_record_data(record_idx, data_idx)
        if connector is not None:
            record = self.connectors[connector](record)
            if connector_idx is not None:
                record = record[connector_idx]
        return record

    def compute_distill_losses(self) -> Dict[str, torch.Tensor]:
        """Run every mapped loss on the records of the last forwards."""
        losses = {}
        for loss_name, mapping in self.loss_forward_mappings.items():
            kwargs = {arg: self.get_record(**record) for arg, record in mapping.items()}
            losses[loss_name] = self.distill_losses[loss_name](**kwargs)
        return losses
