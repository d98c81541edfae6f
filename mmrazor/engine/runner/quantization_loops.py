"""Loops of quantization: PTQ calibration, QAT and LSQ training, QAT validation.

The loops switch the fake-quant modules of ``MMArchitectureQuant`` (torch's
``FakeQuantize`` and mmrazor's ``LearnableFakeQuantize``) between observing data,
fake-quantizing and learning their qparams, as MMRazor 1.x's loops of the same names.
"""
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence, Tuple, Union

import mmengine
import torch
import torch.nn as nn
from mmengine.dist import all_reduce_params, broadcast, is_distributed, master_only
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop, TestLoop, ValLoop, autocast
from mmengine.runner.checkpoint import save_checkpoint, weights_to_cpu
from mmengine.runner.loops import _parse_losses
from torch.ao.quantization import (
    disable_fake_quant,
    disable_observer,
    enable_fake_quant,
    enable_observer,
)
from torch.utils.data import DataLoader

from mmrazor.models.fake_quants import enable_param_learning, enable_static_estimate, enable_val
from mmrazor.models.quantizers import freeze_bn_stats
from mmrazor.registry import LOOPS

PTQ_CHECKPOINT = 'model_ptq.pth'


def unwrap(model: nn.Module) -> nn.Module:
    """The algorithm inside a model wrapper (DDP), or ``model`` itself."""
    return model.module if is_model_wrapper(model) else model


def observe_qparams(model: nn.Module) -> None:
    """Observers on, fake-quant off: calibration sees the float activations."""
    model.apply(enable_observer)
    model.apply(disable_fake_quant)


def freeze_qparams(model: nn.Module) -> None:
    """Observers off, fake-quant on: the state in which a quantized model is evaluated."""
    model.apply(disable_observer)
    model.apply(enable_fake_quant)


def _check_quant_model(loop: object, model: nn.Module, method: str) -> None:
    if not hasattr(model, method):
        raise TypeError(f'{type(loop).__name__} needs a quantization algorithm with '
                        f'"{method}" (e.g. mmrazor.MMArchitectureQuant), got '
                        f'{type(model).__name__}')


@LOOPS.register_module()
class PTQLoop(TestLoop):
    """Post-training quantization: calibrate, save the calibrated model, then test.

    Calibration runs ``calibrate_steps`` batches of ``calibrate_dataloader`` through
    ``model.calibrate_step`` with the observers on and fake-quant off, so each observer
    sees the float activations it will quantize. The qparams are then frozen (observers
    off, fake-quant on), the model is saved as ``<work_dir>/<timestamp>/model_ptq.pth``
    (as MMRazor 1.x does; ``tools/ptq.py --ckpt-quant`` evaluates it again) and the
    test set is evaluated with the quantized model.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The test dataloader (or its config).
        evaluator (Evaluator | dict | list): The test evaluator (or its config).
        calibrate_dataloader (DataLoader | dict): The calibration data (or its config).
        calibrate_steps (int): How many calibration batches to run (fewer when the
            loader has fewer). Defaults to 32.
        fp16 (bool): Calibrate and test with autocast. Defaults to False.
        only_val (bool): Skip calibration and saving; test the model as loaded (a
            calibrated checkpoint). Defaults to False.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 calibrate_dataloader: Union[DataLoader, Dict],
                 calibrate_steps: int = 32,
                 fp16: bool = False,
                 only_val: bool = False) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        if isinstance(calibrate_steps, bool) or not isinstance(calibrate_steps, int) \
                or calibrate_steps <= 0:
            raise ValueError(f'PTQLoop: calibrate_steps must be a positive int (the number '
                             f'of calibration batches), got {calibrate_steps!r}')
        _check_quant_model(self, unwrap(runner.model), 'calibrate_step')
        if isinstance(calibrate_dataloader, dict):
            diff_rank_seed = runner._randomness_cfg.get('diff_rank_seed', False)
            calibrate_dataloader = runner.build_dataloader(
                calibrate_dataloader, seed=runner.seed, diff_rank_seed=diff_rank_seed)
        self.calibrate_dataloader = calibrate_dataloader
        self.calibrate_steps = calibrate_steps
        self.only_val = only_val

    def run(self) -> dict:
        """Calibrate (unless ``only_val``), save, and test the quantized model."""
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        if not self.only_val:
            self.calibrate()
            self.save_calibrated()
        else:
            self._check_calibrated()
        freeze_qparams(self.runner.model)
        self.test_loss.clear()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        if self.test_loss:
            metrics.update(_parse_losses(self.test_loss, 'test'))
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics

    @torch.no_grad()
    def calibrate(self) -> int:
        """Observe ``calibrate_steps`` batches; return how many were run."""
        model = unwrap(self.runner.model)
        observe_qparams(model)
        steps = 0
        for data_batch in self.calibrate_dataloader:
            if steps == self.calibrate_steps:
                break
            with autocast(enabled=self.fp16):
                model.calibrate_step(data_batch)
            steps += 1
        if steps == 0:
            raise RuntimeError('PTQLoop: the calibrate_dataloader gave no batch, so no '
                               'observer saw data; give it a non-empty dataset')
        freeze_qparams(model)
        if is_distributed():
            # each rank observed its own batches: all evaluate (and save) rank 0's qparams
            for tensor in model.state_dict().values():
                broadcast(tensor, src=0)
        print_log(f'PTQ calibration done: {steps} batch(es) of calibrate_dataloader '
                  f'(calibrate_steps={self.calibrate_steps})', logger='current')
        return steps

    def _check_calibrated(self) -> None:
        # an observer that never saw data has no range (empty or infinite min/max)
        never = [name for name, module in unwrap(self.runner.model).named_modules()
                 if isinstance(getattr(module, 'min_val', None), torch.Tensor)
                 and (module.min_val.numel() == 0
                      or not torch.isfinite(module.min_val).all())]
        if never:
            raise RuntimeError(
                f'PTQLoop(only_val=True) tests a calibrated model, but {len(never)} '
                f'observers never saw data (e.g. {never[0]}): load a calibrated checkpoint '
                '(tools/ptq.py --ckpt-quant model_ptq.pth, or load_from) or set '
                'only_val=False to calibrate')

    @master_only
    def save_calibrated(self) -> None:
        """Save the calibrated model as ``<work_dir>/<timestamp>/model_ptq.pth``."""
        path = osp.join(self.runner.work_dir, self.runner.timestamp, PTQ_CHECKPOINT)
        meta = dict(cfg=self.runner.cfg.pretty_text, seed=self.runner.seed,
                    experiment_name=self.runner.experiment_name,
                    time=time.strftime('%Y%m%d_%H%M%S', time.localtime()),
                    mmengine_version=mmengine.__version__)
        dataset_meta = getattr(self.dataloader.dataset, 'metainfo', None)
        if dataset_meta is not None:
            meta['dataset_meta'] = dataset_meta
        # written by hand, not runner.save_checkpoint: that builds the train loop (and
        # its dataset), which a PTQ run neither has nor needs
        state_dict = weights_to_cpu(unwrap(self.runner.model).state_dict())
        save_checkpoint({'meta': meta, 'state_dict': state_dict}, path)
        print_log(f'Quantized (calibrated) model saved to {path}', logger='current')


@LOOPS.register_module()
class QATEpochBasedLoop(EpochBasedTrainLoop):
    """Epoch-based quantization-aware training.

    Each epoch starts with fake-quant on and the observers on, or off from epoch
    ``disable_observer_begin`` (the qparams freeze while the weights still train); from
    epoch ``freeze_bn_begin`` the fused conv-BN layers normalise with, and stop updating,
    their running statistics. Each epoch ends with the qparams frozen (observers off),
    so checkpoints and validation see the model as it deploys.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The training dataloader (or its config).
        max_epochs (int): Total training epochs.
        val_begin (int): The epoch that begins validating. Defaults to 1.
        val_interval (int): Validation interval. Defaults to 1.
        disable_observer_begin (int): The first epoch (1-based) whose observers are
            off. Defaults to -1: observers stay on.
        freeze_bn_begin (int): The first epoch (1-based) with frozen BN statistics.
            Defaults to -1: BN statistics are never frozen.
        dynamic_intervals (List[Tuple[int, int]], optional): ``(milestone, interval)``
            pairs: the validation interval after each milestone. Defaults to None.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: int,
                 val_begin: int = 1,
                 val_interval: int = 1,
                 disable_observer_begin: int = -1,
                 freeze_bn_begin: int = -1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None) -> None:
        super().__init__(runner, dataloader, max_epochs, val_begin, val_interval,
                         dynamic_intervals)
        _check_quant_model(self, unwrap(runner.model), 'qmodels')
        self.disable_observer_begin = disable_observer_begin
        self.freeze_bn_begin = freeze_bn_begin

    def _reached(self, begin: int) -> bool:
        # _epoch counts finished epochs, so the epoch about to run is _epoch + 1
        return begin > 0 and self._epoch + 1 >= begin

    def prepare_for_run_epoch(self) -> None:
        """Set fake-quant, observers and BN for the epoch about to run."""
        model = self.runner.model
        model.apply(enable_fake_quant)
        model.apply(disable_observer if self._reached(self.disable_observer_begin)
                    else enable_observer)
        if self._reached(self.freeze_bn_begin):
            model.apply(freeze_bn_stats)

    def prepare_for_val(self) -> None:
        """Freeze the qparams: observers off, fake-quant on."""
        freeze_qparams(self.runner.model)

    def run_epoch(self) -> None:
        """Train one epoch; end it with the qparams frozen, before the epoch hooks (the
        checkpoint hook saves the flags as validation and deployment use them)."""
        self.prepare_for_run_epoch()
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        unwrap(self.runner.model).sync_qparams(src_mode='loss')
        self.prepare_for_val()
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1


@LOOPS.register_module()
class LSQEpochBasedLoop(QATEpochBasedLoop):
    """Epoch-based training with Learned Step Size Quantization (LSQ).

    Paper: Learned Step Size Quantization, https://arxiv.org/abs/1902.08153. The very
    first training iteration sets every ``LearnableFakeQuantize``'s scale from data
    (static estimate; averaged over ranks when distributed); from then on the scales
    (and trainable zero points) learn by backprop. Validation uses fixed qparams.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The training dataloader (or its config).
        max_epochs (int): Total training epochs.
        val_begin (int): The epoch that begins validating. Defaults to 1.
        val_interval (int): Validation interval. Defaults to 1.
        freeze_bn_begin (int): The first epoch (1-based) with frozen BN statistics.
            Defaults to -1: BN statistics are never frozen.
        dynamic_intervals (List[Tuple[int, int]], optional): ``(milestone, interval)``
            pairs: the validation interval after each milestone. Defaults to None.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: int,
                 val_begin: int = 1,
                 val_interval: int = 1,
                 freeze_bn_begin: int = -1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None) -> None:
        super().__init__(runner, dataloader, max_epochs, val_begin, val_interval,
                         freeze_bn_begin=freeze_bn_begin,
                         dynamic_intervals=dynamic_intervals)

    @property
    def is_first_batch(self) -> bool:
        """Whether no iteration has run yet: a resumed run keeps its learned scales."""
        return self._iter == 0

    def prepare_for_run_epoch(self) -> None:
        """Freeze BN from ``freeze_bn_begin``; learn the qparams."""
        if self._reached(self.freeze_bn_begin):
            self.runner.model.apply(freeze_bn_stats)
        self.runner.model.apply(enable_param_learning)

    def prepare_for_val(self) -> None:
        """Fixed qparams (neither observed nor learned)."""
        self.runner.model.apply(enable_val)

    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        """One training iteration; the first one estimates the scales from data."""
        first = self.is_first_batch
        if first:
            self.runner.model.apply(enable_static_estimate)
        super().run_iter(idx, data_batch)
        if first:
            if is_distributed():
                # each rank estimated its scales from its own batch
                all_reduce_params(self.runner.model.parameters(), op='mean')
            self.runner.model.apply(enable_param_learning)


@LOOPS.register_module()
class QATValLoop(ValLoop):
    """Validate the quantized model, then the float architecture it wraps.

    The quantized model's metrics are prefixed ``qat.`` and the float architecture's
    (the same layers without fake-quant) ``original.``; both are returned and logged
    together, so a log line shows what quantization costs. The quantized model is
    evaluated with frozen qparams (observers off, fake-quant on).

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The validation dataloader (or its config).
        evaluator (Evaluator | dict | list): The evaluator (or its config).
        fp16 (bool): Validate with autocast. Defaults to False.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 fp16: bool = False) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        self.algorithm = unwrap(runner.model)
        _check_quant_model(self, self.algorithm, 'qmodels')

    def run(self) -> dict:
        """``qat.``-prefixed metrics of the quantized model plus ``original.``-prefixed
        metrics of the float architecture."""
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        self.runner.model.eval()
        freeze_qparams(self.runner.model)
        self.val_loss.clear()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        quantized = self.evaluator.evaluate(len(self.dataloader.dataset))
        if self.val_loss:
            quantized.update(_parse_losses(self.val_loss, 'val'))
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter_float(idx, data_batch)
        original = self.evaluator.evaluate(len(self.dataloader.dataset))
        metrics = {f'qat.{k}': v for k, v in quantized.items()}
        metrics.update({f'original.{k}': v for k, v in original.items()})
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics

    @torch.no_grad()
    def run_iter_float(self, idx: int, data_batch: Sequence[dict]) -> None:
        """Predict with the float architecture on the algorithm's preprocessed batch."""
        self.runner.call_hook('before_val_iter', batch_idx=idx, data_batch=data_batch)
        with autocast(enabled=self.fp16):
            data = self.algorithm.data_preprocessor(data_batch, False)
            outputs = self.algorithm.architecture(**data, mode='predict')
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook('after_val_iter', batch_idx=idx, data_batch=data_batch,
                              outputs=outputs)
