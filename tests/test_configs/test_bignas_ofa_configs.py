"""The BigNAS (AttentiveNAS MobileNetV3) and Once-for-All configs: the supernet
configs train one sandwich step in a real Runner (ImageNet swapped for two
Fashion-MNIST images, input sizes shrunk), the search spaces have MMRazor's
structure, and the subnet configs build the static subnets their YAMLs name."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmrazor.models import BigNAS, OFAConv2d
from mmrazor.models.architectures.dynamic_ops import DynamicMixin
from mmrazor.models.architectures.ops import InputResizer
from mmrazor.models.task_modules.estimators import get_model_flops_params
from mmrazor.registry import MODELS

from ..conftest import REPO_ROOT
from ..test_models.test_architectures.test_searchable_shufflenet import one_thread  # noqa: F401

NAS_DIR = osp.join(REPO_ROOT, 'configs', 'nas', 'mmcls')
BIGNAS = osp.join(NAS_DIR, 'bignas', 'attentive_mobilenet_{}_in1k.py')
OFA = osp.join(NAS_DIR, 'onceforall', 'ofa_mobilenet_{}_in1k.py')
TINY_SIZES = [[16, 16], [24, 24]]


def _tiny(cfg: Config, data_root: str, tmp_path, name: str) -> Config:
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False,
                                sampler=dict(type='DefaultSampler', shuffle=False))
    cfg.train_dataloader.dataset = dict(
        type='mmrazor.OfflineFashionMNIST', data_root=data_root, split='test', indices=2,
        pipeline=[dict(type='mmpretrain.PackInputs')])
    cfg.model.architecture.input_resizer_cfg = dict(input_sizes=TINY_SIZES)
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1)
    for key in ('val_cfg', 'val_dataloader', 'val_evaluator', 'test_cfg', 'test_dataloader',
                'test_evaluator'):
        cfg[key] = None
    cfg.default_hooks.checkpoint = None
    cfg.work_dir, cfg.experiment_name = str(tmp_path), name
    cfg.randomness = dict(seed=0)
    return cfg


@pytest.mark.parametrize('path,stages,kernels', [(BIGNAS, 7, [3, 5]), (OFA, 6, [3, 5, 7])])
def test_supernet_configs_train_a_sandwich_step(path, stages, kernels, tmp_path,
                                                fashion_mnist_root):
    cfg = _tiny(Config.fromfile(path.format('supernet_32xb64')), fashion_mnist_root,
                tmp_path, osp.basename(path))
    assert cfg.model_wrapper_cfg.type == 'mmrazor.BigNASDDP'
    runner = Runner.from_cfg(cfg)
    model = runner.model
    assert isinstance(model, BigNAS) and model.sample_kinds == ['max', 'min', 'random0',
                                                                'random1']
    backbone = model.architecture.backbone
    assert len(backbone.layers) == stages + 1
    by_alias = {getattr(group[0], 'alias', None): group[0]
                for group in model.mutator.search_groups.values()}
    assert by_alias['input_shape'].choices == TINY_SIZES
    kernel = by_alias.get('backbone.layers.2.0.kernel_size',
                          by_alias.get('backbone.layers.2.kernel_size'))
    assert kernel.choices == kernels
    assert isinstance(backbone.layer2[0].depthwise_conv.conv, OFAConv2d) == (path == OFA)
    before = backbone.first_conv.conv.weight.detach().clone()
    runner.train()
    scalars = runner.message_hub.log_scalars
    assert {'train/max_subnet.loss', 'train/min_subnet.loss_kl'} <= set(scalars)
    assert not torch.equal(before, backbone.first_conv.conv.weight)


@pytest.mark.parametrize('path,yaml_depths,shape,mmrazor_size', [
    # MMRazor's README: AttentiveNAS-A0 212 MFLOPs / 8.854M params, OFA note8 22 ms
    # 70.9 MFLOPs / 4.3M params (the same space; shortcut and SE details differ a bit)
    (BIGNAS, [1, 3, 3, 3, 3, 3, 1], [192, 192], (212, 8.854)),
    (OFA, [1, 2, 2, 2, 2, 2], [140, 140], (70.9, 4.3))])
def test_subnet_configs_build_the_subnets_of_their_yaml(path, yaml_depths, shape,
                                                        mmrazor_size):
    cfg = Config.fromfile(path.format('subnet_8xb256'))
    assert cfg.model.type == 'sub_model' and cfg.test_cfg.evaluate_fixed_subnet
    cfg.model.update(init_cfg=None, init_weight_from_supernet=False)  # no download
    with DefaultScope.overwrite_default_scope('mmrazor'):
        subnet = MODELS.build(cfg.model)
    assert not any(isinstance(m, DynamicMixin) for m in subnet.modules())
    backbone = subnet.backbone
    assert [len(layer) for layer in backbone.layers[:-1]] == yaml_depths
    assert isinstance(subnet.input_resizer, InputResizer) and subnet.input_resizer.shape == shape
    subnet.eval()
    with torch.no_grad():
        logits = subnet(torch.rand(1, 3, 32, 32), mode='tensor')
    assert logits.shape == (1, 1000)
    flops, params = get_model_flops_params(subnet, input_shape=(1, 3, 224, 224))
    assert (flops, params) == pytest.approx(mmrazor_size, rel=0.03)
