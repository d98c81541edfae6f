"""Shared helpers of the distillation tests: the Fashion-MNIST KD configs, real batches."""
import os.path as osp

import torch
from mmengine.config import Config
from mmpretrain.structures import DataSample

from .conftest import REPO_ROOT

KD_CONFIG = osp.join(
    REPO_ROOT, 'configs/distill/fashion_mnist/kd/'
    'kd_logits_resnet14-w32_resnet14-w16_1xb128_fashion-mnist.py')
DKD_CONFIG = osp.join(
    REPO_ROOT, 'configs/distill/fashion_mnist/dkd/'
    'dkd_resnet14-w32_resnet14-w16_1xb128_fashion-mnist.py')
FITNETS_CONFIG = osp.join(
    REPO_ROOT, 'configs/distill/fashion_mnist/fitnets/'
    'fitnets_backbone_logits_resnet14-w32_resnet14-w16_1xb128_fashion-mnist.py')
TEACHER_MODEL_CFG = osp.join(REPO_ROOT, 'configs/_base_/models/resnet14-w32_fashion-mnist.py')
STUDENT_MODEL_CFG = osp.join(REPO_ROOT, 'configs/_base_/models/resnet14-w16_fashion-mnist.py')


def kd_model_cfg(config: str = KD_CONFIG, **overrides) -> dict:
    """The ``model`` of a KD config, without a teacher checkpoint unless given."""
    cfg = Config.fromfile(config)
    model = cfg.model.to_dict()
    model['teacher_ckpt'] = None
    model.update(overrides)
    return model


def grey_batch(n: int = 4) -> dict:
    """A batch as the Fashion-MNIST dataloader yields it (uint8 images, labels)."""
    generator = torch.Generator().manual_seed(n)
    return {
        'inputs': [torch.randint(0, 256, (1, 28, 28), dtype=torch.uint8,
                                 generator=generator) for _ in range(n)],
        'data_samples': [DataSample().set_gt_label(i % 10) for i in range(n)],
    }
