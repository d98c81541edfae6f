"""The SPOS MobileNet configs (configs/nas/mmcls/spos/spos_mobilenet_*), the DetNAS
configs (configs/nas/mmdet/detnas) and faster-rcnn_nas_backbone_fpn_1x_coco.py: each
builds and trains one step in a real Runner (ImageNet loaders swapped for a few
Fashion-MNIST images, COCO ones for a tiny COCO-format dataset written on the fly;
detectors at a quarter of the backbone width, no checkpoint downloads); the search
configs run one tiny evolution-search epoch (DetNAS scoring bbox mAP and constraining
the backbone's FLOPs); the subnet configs load their YAMLs, and a YAML choice the
supernet lacks is refused with the valid ones."""
import os.path as osp
from typing import Dict, List, Set

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmrazor.engine.runner.utils.search_state import load_data_pickle
from mmrazor.models import SPOS
from mmrazor.models.mutables import OneShotMutableOP
from mmrazor.models.task_modules.estimators import get_model_flops_params
from mmrazor.registry import MODELS
from mmrazor.structures import Candidates, export_fix_subnet

from ..conftest import REPO_ROOT
from ..test_models.test_algorithms.test_detnas import NARROW_CHANNELS, coco_dataset, write_tiny_coco

# one_thread: an autouse fixture, active here once imported
from ..test_models.test_architectures.test_searchable_shufflenet import one_thread  # noqa: F401

SPOS_DIR = osp.join(REPO_ROOT, 'configs', 'nas', 'mmcls', 'spos')
DETNAS_DIR = osp.join(REPO_ROOT, 'configs', 'nas', 'mmdet', 'detnas')
MOBILENET = osp.join(SPOS_DIR, 'spos_mobilenet_{}_8xb128_in1k.py')
FRCNN = osp.join(DETNAS_DIR, 'detnas_frcnn_shufflenet_{}_coco_1x.py')
IN1K = osp.join(DETNAS_DIR, 'detnas_shufflenet_{}_8xb128_in1k.py')
RETINA = osp.join(DETNAS_DIR, 'detnas_retina_shufflenet_supernet_coco_1x.py')
FRCNN_NAS_BACKBONE = osp.join(SPOS_DIR, 'faster-rcnn_nas_backbone_fpn_1x_coco.py')
# Fashion-MNIST's grey channel broadcasts to three by a three-channel normalisation
GREY_TO_RGB = dict(type='ClsDataPreprocessor', mean=[72.94] * 3, std=[90.02] * 3)


@pytest.fixture(scope='module')
def tiny_coco(tmp_path_factory):
    return write_tiny_coco(str(tmp_path_factory.mktemp('tiny_coco')))


class StepRecorder(Hook):
    """The state-dict entries each training step changed, and the step's losses."""

    def __init__(self) -> None:
        self.changed: List[Set[str]] = []
        self.losses: List[Dict] = []

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._before = {k: v.clone() for k, v in runner.model.state_dict().items()}

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.losses.append(outputs)
        self.changed.append({k for k, v in runner.model.state_dict().items()
                             if not torch.equal(v, self._before[k])})


def fm_loaders(cfg: Config, data_root: str, num: int = 4) -> None:
    dataset = dict(type='mmrazor.OfflineFashionMNIST', data_root=data_root, split='test',
                   indices=num, pipeline=[dict(type='mmpretrain.PackInputs')])
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.update(batch_size=num, num_workers=0, persistent_workers=False)
        loader.dataset = dataset  # replaced, not merged into ImageNet's


def coco_loaders(cfg: Config, ann_file: str, img_dir: str) -> None:
    for loader, test_mode in ((cfg.train_dataloader, False), (cfg.val_dataloader, True)):
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset = coco_dataset(ann_file, img_dir, test_mode=test_mode)
    cfg.val_evaluator.ann_file = ann_file


def narrow(detector: Config) -> None:
    """A quarter of the backbone width; Faster R-CNN with 64 sampled RoIs in training
    and 32 proposals in testing (rather than 512 and 1000)."""
    detector.backbone.widen_factor = 0.25
    detector.neck.in_channels = NARROW_CHANNELS
    if 'roi_head' in detector:
        detector.train_cfg.rcnn.sampler.num = 64
        detector.test_cfg.rpn.update(nms_pre=64, max_per_img=32)


def without_parts(cfg: Config) -> Config:
    """``cfg`` without the top-level copies of the search space the model config
    already holds: the Runner formats its config with yapf (seconds per copy)."""
    for key in ('_STAGE_MUTABLE', '_FIRST_MUTABLE', 'arch_setting', 'nas_backbone',
                'supernet'):
        cfg.pop(key, None)
    return cfg


def train_one_step(cfg: Config, work_dir: str) -> StepRecorder:
    """One training iteration of ``cfg`` in a Runner, without validation."""
    without_parts(cfg)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1)
    cfg.param_scheduler = []
    for key in ('val_cfg', 'val_dataloader', 'val_evaluator', 'test_cfg',
                'test_dataloader', 'test_evaluator', 'load_from'):
        cfg[key] = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1, save_last=False)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=0)
    runner = Runner.from_cfg(cfg)
    recorder = StepRecorder()
    runner.register_hook(recorder)
    runner.train()
    assert all(torch.isfinite(v) for v in recorder.losses[0].values())
    return recorder


# ---- SPOS MobileNet ---------------------------------------------------------------------


def test_mobilenet_supernet_config_trains_one_sampled_path(tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(MOBILENET.format('supernet'))
    # MMRazor's config as written: unscoped ImageClassifier, type SearchableMobileNet
    assert '_scope_' not in cfg.supernet and cfg.supernet.backbone.type == \
        'SearchableMobileNet'
    assert (cfg.supernet.head.in_channels, cfg.find_unused_parameters) == (1728, True)
    # built by mmrazor's MODELS as by the Runner: the unscoped ImageClassifier inside
    # type='mmrazor.SPOS' resolves in the config's default scope
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    assert type(model.architecture).__module__.startswith('mmpretrain.')
    fm_loaders(cfg, fashion_mnist_root)
    cfg.supernet.data_preprocessor = GREY_TO_RGB
    cfg.model.architecture = cfg.supernet
    changed = train_one_step(cfg, str(tmp_path)).changed[0]
    assert 'architecture.head.fc.weight' in changed
    trained = {key.split('._candidates.')[1].split('.')[0] for key in changed
               if 'layer3.2._candidates.' in key}
    assert len(trained) <= 1  # one candidate of a block per step (none: identity)


def test_mobilenet_search_config_searches_one_epoch(tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(MOBILENET.format('search'))
    loop = cfg.train_cfg
    assert (loop.type, loop.max_epochs, loop.num_candidates, loop.top_k, loop.num_mutation,
            loop.num_crossover, loop.mutate_prob, loop.score_key) == (
        'mmrazor.EvolutionSearchLoop', 20, 50, 10, 25, 25, 0.1, 'accuracy/top1')
    assert loop.constraints_range == dict(flops=(0., 465.)) and cfg.model.norm_training
    fm_loaders(cfg, fashion_mnist_root)
    cfg.model.architecture.data_preprocessor = GREY_TO_RGB
    loop.dataloader = cfg.val_dataloader
    loop.update(max_epochs=1, num_candidates=2, top_k=1, num_mutation=1, num_crossover=0)
    cfg.work_dir = str(tmp_path)
    cfg.randomness = dict(seed=0)
    Runner.from_cfg(without_parts(cfg)).train()
    top = Candidates(load_data_pickle(str(tmp_path / 'search_epoch_1.pkl'))[
        'top_k_candidates'])
    assert 0 < top.resources('flops')[0] <= 465  # MFLOPs at 224x224
    with open(tmp_path / 'best_fix_subnet.yaml') as f1, \
            open(osp.join(SPOS_DIR, 'SPOS_MOBILENET_SUBNET.yaml')) as f2:
        assert set(yaml.safe_load(f1)) == set(yaml.safe_load(f2))  # the subnet's keys


def test_mobilenet_subnet_config_loads_its_yaml_and_trains(tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(MOBILENET.format('subnet'))
    with open(osp.join(SPOS_DIR, 'SPOS_MOBILENET_SUBNET.yaml')) as f:
        subnet = {key: entry['chosen'] for key, entry in yaml.safe_load(f).items()}
    assert len(subnet) == 22 and cfg.find_unused_parameters is False
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    assert {name: m.choices for name, m in model.named_modules()
            if isinstance(m, OneShotMutableOP)} == {k: [v] for k, v in subnet.items()}
    flops, _ = get_model_flops_params(model, input_shape=(1, 3, 224, 224))
    assert flops <= 465  # the shipped subnet meets the search's budget
    fm_loaders(cfg, fashion_mnist_root)
    cfg.model.cfg.data_preprocessor = GREY_TO_RGB
    assert 'head.fc.weight' in train_one_step(cfg, str(tmp_path)).changed[0]


def _bad_choice_yaml(tmp_path, source: str, key: str, choice: str) -> str:
    with open(source) as f:
        subnet = yaml.safe_load(f)
    subnet[key] = {'chosen': choice}
    path = tmp_path / 'bad.yaml'
    path.write_text(yaml.safe_dump(subnet))
    return str(path)


def test_subnet_yamls_with_a_choice_the_supernet_lacks_are_refused(tmp_path):
    cfg = Config.fromfile(MOBILENET.format('subnet'))
    cfg.model.fix_subnet = _bad_choice_yaml(
        tmp_path, osp.join(SPOS_DIR, 'SPOS_MOBILENET_SUBNET.yaml'), 'backbone.layer3.1',
        'mb_k9e6')
    with pytest.raises(ValueError, match=r"'mb_k9e6' for 'backbone.layer3.1'.*\['mb_k3e3', "
                                         r"'mb_k5e3', 'mb_k7e3', 'mb_k3e6', 'mb_k5e6', "
                                         r"'mb_k7e6', 'identity'\]"):
        with DefaultScope.overwrite_default_scope(cfg.default_scope):
            MODELS.build(cfg.model)
    cfg = Config.fromfile(FRCNN.format('subnet'))
    cfg.model.update(init_cfg=None, fix_subnet=_bad_choice_yaml(
        tmp_path, osp.join(DETNAS_DIR, 'DETNAS_SUBNET.yaml'), 'backbone.layers.2.6',
        'mb_k3e3'))
    with pytest.raises(ValueError, match=r"'mb_k3e3' for 'backbone.layers.2.6'.*"
                                         r"\['shuffle_3x3', 'shuffle_5x5', 'shuffle_7x7', "
                                         r"'shuffle_xception'\]"):
        with DefaultScope.overwrite_default_scope(cfg.default_scope):
            MODELS.build(cfg.model)


# ---- DetNAS -----------------------------------------------------------------------------


@pytest.mark.parametrize('config', [FRCNN.format('supernet'), RETINA],
                         ids=['faster-rcnn', 'retinanet'])
def test_detnas_supernet_configs_train_one_step(config, tmp_path, tiny_coco):
    cfg = Config.fromfile(config)
    assert cfg.model.type == 'mmrazor.SPOS' and cfg.find_unused_parameters
    assert cfg.supernet.backbone.out_indices == (0, 1, 2, 3)
    assert cfg.supernet.neck.in_channels == [64, 160, 320, 640]
    narrow(cfg.model.architecture)
    coco_loaders(cfg, *tiny_coco)
    changed = train_one_step(cfg, str(tmp_path)).changed[0]
    assert 'architecture.backbone.conv1.conv.weight' in changed
    assert any(k.startswith('architecture.neck.') for k in changed)


def test_detnas_search_config_constrains_the_backbone(tmp_path, tiny_coco):
    cfg = Config.fromfile(FRCNN.format('search'))
    loop = cfg.train_cfg
    assert (loop.num_mutation, loop.num_crossover, loop.score_key, loop.constraints_range) \
        == (20, 20, 'coco/bbox_mAP', dict(flops=(0, 330)))
    narrow(cfg.model.architecture)
    # an untrained detector scores no box above 0.05: keep all, so mAP is computed
    cfg.model.architecture.test_cfg.rcnn.score_thr = 0.
    coco_loaders(cfg, *tiny_coco)
    loop.update(dataloader=cfg.val_dataloader, evaluator=cfg.val_evaluator, max_epochs=1,
                num_candidates=2, top_k=1, num_mutation=1, num_crossover=0,
                estimator_cfg=dict(input_shape=(1, 3, 64, 64)))
    cfg.work_dir = str(tmp_path)
    cfg.randomness = dict(seed=0)
    runner = Runner.from_cfg(without_parts(cfg))
    assert isinstance(runner.model, SPOS)
    runner.train()
    state = load_data_pickle(str(tmp_path / 'search_epoch_1.pkl'))
    top = Candidates(state['top_k_candidates'])
    subnet = top.subnets[0]
    runner.model.mutator.set_choices(subnet)
    _, static = export_fix_subnet(runner.model, slice_weight=True)
    backbone, _ = get_model_flops_params(static.backbone, input_shape=(1, 3, 64, 64))
    assert top.resources('flops')[0] == pytest.approx(backbone)  # the backbone alone
    assert osp.isfile(tmp_path / 'best_fix_subnet.yaml')


def test_detnas_subnet_configs_load_detnas_subnet_yaml(tmp_path, tiny_coco,
                                                       fashion_mnist_root):
    with open(osp.join(DETNAS_DIR, 'DETNAS_SUBNET.yaml')) as f:
        subnet = {key: entry['chosen'] for key, entry in yaml.safe_load(f).items()}
    # the COCO subnet: Faster R-CNN over the YAML's backbone (checkpoint not downloaded)
    cfg = Config.fromfile(FRCNN.format('subnet'))
    assert cfg.model.type == 'sub_model' and cfg.model.init_cfg.prefix == 'architecture.'
    cfg.model.init_cfg = None
    narrow(cfg.model.cfg)
    coco_loaders(cfg, *tiny_coco)
    recorder = train_one_step(cfg, str(tmp_path / 'coco'))
    assert 'backbone.conv1.conv.weight' in recorder.changed[0]
    # the ImageNet pre-training of the same backbone
    cfg = Config.fromfile(IN1K.format('subnet'))
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    assert {name: m.choices[0] for name, m in model.named_modules()
            if isinstance(m, OneShotMutableOP)} == subnet
    fm_loaders(cfg, fashion_mnist_root)
    assert 'head.fc.weight' in train_one_step(cfg, str(tmp_path / 'in1k')).changed[0]


def test_detnas_in1k_supernet_config_is_the_spos_one(tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(IN1K.format('supernet'))
    spos = Config.fromfile(osp.join(SPOS_DIR, 'spos_shufflenet_supernet_8xb128_in1k.py'))
    assert cfg.model.type == 'mmrazor.SPOS' and cfg.supernet == spos.supernet
    fm_loaders(cfg, fashion_mnist_root)
    assert 'architecture.head.fc.weight' in train_one_step(cfg, str(tmp_path)).changed[0]


def test_faster_rcnn_over_the_spos_subnet_trains_one_step(tmp_path, tiny_coco):
    cfg = Config.fromfile(FRCNN_NAS_BACKBONE)
    backbone = cfg.model.backbone
    assert (backbone.type, backbone.extra_prefix) == ('mmrazor.sub_model', 'backbone.')
    with open(osp.join(SPOS_DIR, 'SPOS_SUBNET.yaml')) as f:
        subnet = {key[len('backbone.'):]: entry['chosen']
                  for key, entry in yaml.safe_load(f).items()}
    backbone.cfg.widen_factor = 0.25
    cfg.model.neck.in_channels = NARROW_CHANNELS
    cfg.model.train_cfg.rcnn.sampler.num = 64
    coco_loaders(cfg, *tiny_coco)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    assert {name: m.choices[0] for name, m in model.backbone.named_modules()
            if isinstance(m, OneShotMutableOP)} == subnet
    changed = train_one_step(cfg, str(tmp_path)).changed[0]
    assert 'backbone.conv1.conv.weight' in changed and 'rpn_head.rpn_conv.weight' in changed
