"""The AutoFormer configs (configs/nas/mmcls/autoformer) with MMRazor's contents: the
supernet config trains a step in a real Runner and the search config runs a search
epoch (ImageNet swapped for Fashion-MNIST images, the ViT shrunk through config
options); the subnet config builds AutoFormer-B from MMRazor's YAML (its derived
entries included), and a YAML choice outside the space is refused."""
import copy
import os.path as osp

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmrazor.models import Autoformer
from mmrazor.models.architectures.dynamic_ops import DynamicMixin
from mmrazor.models.task_modules.estimators import get_model_flops_params
from mmrazor.registry import MODELS
from mmrazor.structures import export_fix_subnet

from ..conftest import REPO_ROOT
from ..test_models.test_architectures.test_autoformer import TINY_ARCH, tiny_classifier
from ..test_models.test_architectures.test_searchable_shufflenet import one_thread  # noqa: F401

AUTOFORMER = osp.join(REPO_ROOT, 'configs', 'nas', 'mmcls', 'autoformer')
SUPERNET = osp.join(AUTOFORMER, 'autoformer_supernet_32xb256_in1k.py')
SEARCH = osp.join(AUTOFORMER, 'autoformer_search_8xb128_in1k.py')
SUBNET = osp.join(AUTOFORMER, 'autoformer_subnet_8xb256_in1k.py')
SUBNET_YAML = osp.join(AUTOFORMER, 'AUTOFORMER_SUBNET_B.yaml')

# what a user would pass as --cfg-options to shrink the ViT to 28x28 Fashion-MNIST
TINY_OPTIONS = {
    'model.architecture.backbone.arch_setting': TINY_ARCH,
    'model.architecture.backbone.img_size': 28,
    'model.architecture.backbone.patch_size': 14,
    'model.architecture.head.in_channels': 32,
}


def _tiny(path: str, data_root: str, tmp_path) -> Config:
    cfg = Config.fromfile(path)
    cfg.merge_from_dict(TINY_OPTIONS)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.update(batch_size=2, num_workers=0, persistent_workers=False,
                      sampler=dict(type='DefaultSampler', shuffle=False))
        loader.dataset = dict(type='mmrazor.OfflineFashionMNIST', data_root=data_root,
                              split='test', indices=2,
                              pipeline=[dict(type='mmpretrain.PackInputs')])
    cfg.default_hooks.checkpoint = None
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = osp.basename(path)
    cfg.randomness = dict(seed=0)
    return cfg


def _build(model_cfg: dict):
    # a copy: mmpretrain's batch augments extend the probs list of the config they get
    with DefaultScope.overwrite_default_scope('mmrazor'):
        return MODELS.build(copy.deepcopy(model_cfg))


def test_supernet_config_trains_a_step(tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(SUPERNET)
    assert cfg.arch_setting == dict(mlp_ratios=[3.0, 3.5, 4.0], num_heads=[8, 9, 10],
                                    depth=[14, 15, 16], embed_dims=[528, 576, 624])
    assert cfg.model.type == 'mmrazor.Autoformer' and cfg.find_unused_parameters
    assert cfg.model.architecture.connect_head == dict(
        connect_with_backbone='backbone.last_mutable')
    assert cfg.default_hooks.checkpoint == dict(type='CheckpointHook', interval=2,
                                                by_epoch=True, save_best='accuracy/top1',
                                                max_keep_ckpts=3)
    assert cfg.optim_wrapper.optimizer.type == 'AdamW' and cfg.optim_wrapper.optimizer.lr \
        == 0.002 and cfg.train_cfg.max_epochs == 500
    cfg = _tiny(SUPERNET, fashion_mnist_root, tmp_path)
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1)
    for key in ('val_cfg', 'val_dataloader', 'val_evaluator', 'test_cfg', 'test_dataloader',
                'test_evaluator'):
        cfg[key] = None
    runner = Runner.from_cfg(cfg)
    model = runner.model
    assert isinstance(model, Autoformer)
    assert any(type(hook).__name__ == 'EMAHook' for hook in runner.hooks)
    before = model.architecture.backbone.pos_embed.detach().clone()
    runner.train()
    assert torch.isfinite(torch.tensor(runner.message_hub.get_scalar('train/loss').current()))
    assert not torch.equal(before, model.architecture.backbone.pos_embed)


def test_search_config_runs_a_search_epoch(tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(SEARCH)
    loop = cfg.train_cfg
    assert (loop.type, loop.max_epochs, loop.num_candidates, loop.top_k, loop.num_mutation,
            loop.num_crossover, loop.mutate_prob, loop.score_key) == (
        'mmrazor.EvolutionSearchLoop', 20, 20, 10, 5, 5, 0.2, 'accuracy/top1')
    assert loop.constraints_range == dict(params=(0, 55)) and cfg.custom_hooks is None
    cfg = _tiny(SEARCH, fashion_mnist_root, tmp_path)
    cfg.train_cfg.dataloader = cfg.val_dataloader
    cfg.train_cfg.update(max_epochs=1, num_candidates=2, top_k=1, num_mutation=1,
                         num_crossover=0,
                         estimator_cfg=dict(type='mmrazor.ResourceEstimator',
                                            input_shape=(1, 3, 28, 28)))
    runner = Runner.from_cfg(cfg)
    runner.train()
    with open(tmp_path / 'best_fix_subnet.yaml') as f:
        best = yaml.safe_load(f)
    assert 'backbone.mutable_embed_dims' in best and 'backbone.mutable_depth' in best
    # the searched subnet loads into the (shrunk) subnet config
    subnet_cfg = Config.fromfile(SUBNET)
    subnet_cfg.merge_from_dict({key.replace('model.architecture.', 'model.cfg.'): value
                                for key, value in TINY_OPTIONS.items()})
    subnet_cfg.model.update(fix_subnet=str(tmp_path / 'best_fix_subnet.yaml'), init_cfg=None)
    subnet = _build(subnet_cfg.model)
    assert len(subnet.backbone.blocks) == best['backbone.mutable_depth']['chosen']


def test_subnet_config_builds_autoformer_b_from_mmrazors_yaml():
    cfg = Config.fromfile(SUBNET)
    assert cfg.model.type == 'sub_model' and cfg.model.init_cfg.prefix == 'architecture.'
    cfg.model.init_cfg = None  # no download
    subnet = _build(cfg.model)
    assert not any(isinstance(m, DynamicMixin) for m in subnet.modules())
    with open(SUBNET_YAML) as f:
        chosen = {key: entry['chosen'] for key, entry in yaml.safe_load(f).items()}
    backbone = subnet.backbone
    assert len(backbone.blocks) == chosen['backbone.mutable_depth'] == 14
    assert subnet.head.fc.in_features == chosen['backbone.mutable_embed_dims'] == 576
    for i, block in enumerate(backbone.blocks):
        heads = chosen[f'backbone.blocks.{i}.attn.mutable_attrs.num_heads']
        ratio = chosen[f'backbone.blocks.{i}.mutable_mlp_ratios']
        assert block.attn.num_heads == heads and block.attn.w_qs.out_features == heads * 64
        assert block.fc1.out_features == int(576 * ratio)
    # MMRazor's README: AutoFormer-B has 54.319M parameters
    _, params = get_model_flops_params(subnet, input_shape=(1, 3, 224, 224))
    assert params == pytest.approx(54.319, rel=0.01)


def test_subnet_yaml_outside_the_space_is_refused(tmp_path):
    good = export_fix_subnet(tiny_classifier())[0]
    cfg = Config.fromfile(SUBNET)
    cfg.merge_from_dict({key.replace('model.architecture.', 'model.cfg.'): value
                         for key, value in TINY_OPTIONS.items()})
    path = tmp_path / 'subnet.yaml'
    cfg.model.update(fix_subnet=str(path), init_cfg=None)

    subnet = dict(good, **{'backbone.blocks.1.attn.mutable_attrs.num_heads': {'chosen': 3}})
    path.write_text(yaml.safe_dump(subnet))
    with pytest.raises(ValueError, match=r"3 for 'backbone.blocks.1.attn.mutable_attrs."
                                         r"num_heads'.*not one of its choices \[1, 2\]"):
        _build(cfg.model)
    # a derived entry (MMRazor writes them) is skipped; a misspelt one is not
    subnet = dict(good, **{'backbone.blocks.1.middle_channels': {'chosen': 48}})
    path.write_text(yaml.safe_dump(subnet))
    assert len(_build(cfg.model).backbone.blocks) == 3
    subnet['backbone.blocks.1.mutable_mlp_ratio'] = subnet.pop(
        'backbone.blocks.1.mutable_mlp_ratios')
    path.write_text(yaml.safe_dump(subnet))
    with pytest.raises(KeyError, match=r"'backbone.blocks.1.mutable_mlp_ratio' \(did you "
                                       r"mean \['backbone.blocks.1.mutable_mlp_ratios'"):
        _build(cfg.model)
