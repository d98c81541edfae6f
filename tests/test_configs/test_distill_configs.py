"""Every MMRazor 1.x distillation config under configs/distill/{mmcls,mmdet,mmseg}
builds and runs one real training step on a tiny batch, which reports every distillation
loss, changes the student (or, where the student is frozen, the connectors) and leaves a
frozen teacher, BN statistics included, as it was.

Teacher checkpoints are dropped (the configs point at local files one downloads once).
To keep the full-size models cheap on a CPU, inputs are small (CIFAR 32x32,
ImageNet-style 64x64, detection 128x128, segmentation 64x64, not padded to mmseg's crop
size) and the data-free algorithms update the student once per step; everything else
is the config as shipped.
"""
import glob
import os.path as osp
from typing import Dict, List, Set

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper, OptimWrapperDict, build_optim_wrapper
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData, PixelData

from mmrazor.registry import MODELS

from ..conftest import REPO_ROOT

DISTILL_ROOT = osp.join(REPO_ROOT, 'configs', 'distill')
TASKS = ('mmcls', 'mmdet', 'mmseg')
# an algorithm's datasets/ folder holds dataset configs its configs inherit (CRD)
CONFIGS = sorted(
    path for task in TASKS
    for path in glob.glob(osp.join(DISTILL_ROOT, task, '**', '*.py'), recursive=True)
    if 'datasets' not in osp.relpath(path, DISTILL_ROOT).split(osp.sep))
DATA_FREE = ('DataFreeDistillation', 'DAFLDataFreeDistillation')
BATCH_SIZE = 2


def _config_id(path: str) -> str:
    return osp.relpath(path, DISTILL_ROOT)


def _load(path: str) -> Config:
    """The config with its teacher checkpoints removed (they are local downloads)."""
    cfg = Config.fromfile(path)
    model = cfg.model
    if 'teacher_ckpt' in model:
        model.teacher_ckpt = None
    for teacher in model.get('teachers', {}).values():
        teacher.pop('ckpt_path', None)
    return cfg


def _cls_batch(path: str) -> Dict:
    """uint8 images with labels: CIFAR-size for the CIFAR configs, else 64x64."""
    name = osp.basename(path)
    size = 32 if 'cifar' in name else 64
    num_classes = 100 if 'cifar100' in name else 10 if 'cifar10' in name else 1000
    from mmpretrain.structures import DataSample
    gen = torch.Generator().manual_seed(0)
    samples = []
    for i in range(BATCH_SIZE):
        sample = DataSample().set_gt_label((3 * i + 1) % num_classes)
        # the dataset index, as mmengine's BaseDataset gives it (CRD needs it)
        sample.set_metainfo(dict(sample_idx=i, img_shape=(size, size)))
        samples.append(sample)
    return dict(
        inputs=[torch.randint(0, 256, (3, size, size), dtype=torch.uint8, generator=gen)
                for _ in range(BATCH_SIZE)],
        data_samples=samples)


def _det_batch() -> Dict:
    """Two 128x128 images with a few boxes each."""
    from mmdet.structures import DetDataSample
    size = 128
    gen = torch.Generator().manual_seed(0)
    samples = []
    for i in range(BATCH_SIZE):
        sample = DetDataSample(metainfo=dict(
            img_id=i, img_path=f'img_{i}.jpg', ori_shape=(size, size),
            img_shape=(size, size), pad_shape=(size, size),
            batch_input_shape=(size, size), scale_factor=(1.0, 1.0), flip=False,
            flip_direction=None))
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[8., 10., 60., 70.], [40., 30., 120., 110.],
                                 [70., 5., 100., 50.]]) + i,
            labels=torch.tensor([0, 2 + i, 7]))
        samples.append(sample)
    return dict(
        inputs=[torch.randint(0, 256, (3, size, size), dtype=torch.uint8, generator=gen)
                for _ in range(BATCH_SIZE)],
        data_samples=samples)


def _seg_batch() -> Dict:
    """Two 64x64 images with Cityscapes-like label maps (19 classes, 255 ignored)."""
    from mmseg.structures import SegDataSample
    size = 64
    gen = torch.Generator().manual_seed(0)
    samples = []
    for i in range(BATCH_SIZE):
        sample = SegDataSample(metainfo=dict(
            img_path=f'img_{i}.png', ori_shape=(size, size), img_shape=(size, size),
            pad_shape=(size, size), scale_factor=(1.0, 1.0), flip=False,
            reduce_zero_label=False))
        label = torch.randint(0, 19, (1, size, size), generator=gen)
        label[:, :4] = 255
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    return dict(
        inputs=[torch.randint(0, 256, (3, size, size), dtype=torch.uint8, generator=gen)
                for _ in range(BATCH_SIZE)],
        data_samples=samples)


def _batch(path: str) -> Dict:
    task = osp.relpath(path, DISTILL_ROOT).split(osp.sep)[0]
    return {'mmcls': _cls_batch, 'mmdet': lambda _: _det_batch(),
            'mmseg': lambda _: _seg_batch()}[task](path)


def _optim_wrapper(model, cfg: Config):
    """The config's own optim wrapper where it is a separate one (data-free KD), else
    plain SGD over the trainable parameters."""
    optim_cfg = cfg.get('optim_wrapper', {})
    if 'SeparateOptimWrapperConstructor' in str(optim_cfg.get('constructor', '')):
        wrapper = build_optim_wrapper(model, optim_cfg)
        assert isinstance(wrapper, OptimWrapperDict)
        return wrapper
    return OptimWrapper(torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=1e-3))


def _expected_keys(model_cfg) -> Set[str]:
    """``distill.<loss>`` for every mapped loss (``generator.<loss>`` for data-free)."""
    keys = {f'distill.{name}' for name in model_cfg.distiller.loss_forward_mappings}
    if model_cfg.type in DATA_FREE:
        keys |= {f'generator.{name}'
                 for name in model_cfg.generator_distiller.loss_forward_mappings}
    return keys


def test_every_distill_config_is_collected():
    names: List[str] = [osp.basename(p) for p in CONFIGS]
    assert len(names) == len(set(names))
    for task in TASKS:
        assert any(_config_id(p).startswith(task) for p in CONFIGS), task


@pytest.mark.parametrize('path', CONFIGS, ids=_config_id)
def test_distill_config_builds_and_trains_one_step(path):
    cfg = _load(path)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model = MODELS.build(cfg.model)
        if getattr(model.data_preprocessor, 'size', None):
            # mmseg pads every image to the crop size (512x1024): keep the input small
            model.data_preprocessor.size = None
            model.data_preprocessor.size_divisor = 32
        if getattr(model, 'student_iter', 1) > 1:
            # ZSKT (10) and DFAD (5) update the student several times per step; one
            # update checks the config (test_datafree_distillation tests the loop)
            model.student_iter = 1
        model.train()
        optim_wrapper = _optim_wrapper(model, cfg)
        student, teacher = _snapshot(model.student), _snapshot(_teacher(model))
        connectors = _snapshot(model.distiller.connectors)
        log_vars = model.train_step(_batch(path), optim_wrapper)
    missing = _expected_keys(cfg.model) - set(log_vars)
    assert not missing, f'missing distillation losses {missing}; got {sorted(log_vars)}'
    for key, value in log_vars.items():
        assert torch.isfinite(torch.as_tensor(value)).all(), f'{key} = {value}'
    student_changed = _changed(model.student, student)
    if getattr(model, 'student_trainable', True):
        assert student_changed, 'the train step changed no student parameter'
    else:  # e.g. factor transfer's pre-training: only the paraphraser learns
        assert not student_changed, f'student_trainable=False, yet {student_changed} changed'
        assert _changed(model.distiller.connectors, connectors), 'nothing learnt'
    if not getattr(model, 'teacher_trainable', False):
        # parameters and buffers (BN statistics): a frozen teacher is left as it was
        teacher_changed = _changed(_teacher(model), teacher, buffers=True)
        assert not teacher_changed, f'the frozen teacher changed: {teacher_changed[:5]}'


def _teacher(model: torch.nn.Module):
    """The teacher(s) of an algorithm; None for self-distillation."""
    return getattr(model, 'teachers', None) or getattr(model, 'teacher', None)


def _snapshot(module) -> Dict[str, torch.Tensor]:
    if module is None:
        return {}
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _changed(module, before: Dict[str, torch.Tensor], buffers: bool = False) -> List[str]:
    """Names of the parameters (and buffers) of ``module`` that differ from ``before``."""
    if module is None:
        return []
    names = (dict(module.state_dict()) if buffers else
             {k: v for k, v in module.named_parameters()})
    return [k for k, v in names.items() if not torch.equal(v, before[k])]
