"""DetNAS on real mmdet detectors (Faster R-CNN and RetinaNet over a narrow SPOS
ShuffleNetV2 supernet, from the DetNAS configs) fed by a tiny COCO-format dataset
written on the fly: a train step changes, in the backbone, only the sampled
candidates; the search measures the backbone alone; non-detectors and searchable
parts outside the backbone are refused; ``DetNASDDP`` is the one ``AlgorithmDDP``."""
import json
import os.path as osp
import random
from typing import Dict, Tuple

import numpy as np
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from PIL import Image

from mmrazor.engine.runner.utils.check import check_subnet_resources
from mmrazor.models import SPOS, DetNAS
from mmrazor.models.mutables import OneShotMutableOP
from mmrazor.models.task_modules.estimators import ResourceEstimator
from mmrazor.models.task_modules.estimators.cost_table import SubnetCostTable
from mmrazor.models.wrappers import AlgorithmDDP
from mmrazor.registry import DATASETS, MODEL_WRAPPERS, MODELS
from mmrazor.structures import export_fix_subnet

from ...conftest import REPO_ROOT

# one_thread: an autouse fixture, active here once imported
from ..test_architectures.test_searchable_shufflenet import one_thread  # noqa: F401

DETNAS = osp.join(REPO_ROOT, 'configs', 'nas', 'mmdet', 'detnas')
FRCNN = osp.join(DETNAS, 'detnas_frcnn_shufflenet_supernet_coco_1x.py')
RETINA = osp.join(DETNAS, 'detnas_retina_shufflenet_supernet_coco_1x.py')
IMAGE_SIZE = 64
# the backbone's stage channels at widen_factor 0.25 (64, 160, 320, 640 at 1.0)
NARROW_CHANNELS = [16, 40, 80, 160]


def write_tiny_coco(root: str, num_images: int = 4) -> Tuple[str, str]:
    """``num_images`` random 64x64 JPEGs with 2 boxes each and their COCO annotation
    file (80 COCO categories, so mmdet's CocoDataset takes it as is):
    ``(ann_file, image folder)``."""
    from mmdet.datasets import CocoDataset
    rng = np.random.default_rng(0)
    images, annotations = [], []
    for index in range(num_images):
        name = f'{index:04d}.jpg'
        pixels = rng.integers(0, 256, (IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(osp.join(root, name))
        images.append(dict(id=index, file_name=name, width=IMAGE_SIZE, height=IMAGE_SIZE))
        for box in ([4 + index, 6, 30, 28], [28, 20 + index, 32, 40]):
            annotations.append(dict(id=len(annotations), image_id=index,
                                    category_id=1 + (index + len(annotations)) % 3,
                                    bbox=box, area=box[2] * box[3], iscrowd=0))
    categories = [dict(id=i + 1, name=name)
                  for i, name in enumerate(CocoDataset.METAINFO['classes'])]
    ann_file = osp.join(root, 'annotations.json')
    with open(ann_file, 'w') as f:
        json.dump(dict(images=images, annotations=annotations, categories=categories), f)
    return ann_file, root


def coco_dataset(ann_file: str, img_dir: str, test_mode: bool = False) -> Dict:
    """mmdet's CocoDataset on the tiny files, at their own 64x64 size."""
    pipeline = [dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations', with_bbox=True),
                dict(type='Resize', scale=(IMAGE_SIZE, IMAGE_SIZE), keep_ratio=True),
                dict(type='PackDetInputs')]
    return dict(_scope_='mmdet', type='CocoDataset', data_root='', ann_file=ann_file,
                data_prefix=dict(img=img_dir + '/'), test_mode=test_mode,
                filter_cfg=dict(filter_empty_gt=False), pipeline=pipeline)


@pytest.fixture(scope='module')
def tiny_coco(tmp_path_factory) -> Tuple[str, str]:
    return write_tiny_coco(str(tmp_path_factory.mktemp('tiny_coco')))


def narrow_detector(config: str) -> ConfigDict:
    """The config's supernet at a quarter of its backbone width, with plain BN and
    (Faster R-CNN) 64 rather than 512 sampled RoIs per image."""
    supernet = Config.fromfile(config).supernet
    supernet.backbone.update(widen_factor=0.25, norm_cfg=dict(type='BN'))
    supernet.neck.update(in_channels=NARROW_CHANNELS, norm_cfg=dict(type='BN'))
    if 'roi_head' in supernet:
        supernet.roi_head.bbox_head.norm_cfg = dict(type='BN')
        supernet.train_cfg.rcnn.sampler.num = 64
    return supernet


def build_detnas(config: str, **kwargs) -> DetNAS:
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MODELS.build(dict(type='mmrazor.DetNAS', architecture=narrow_detector(config),
                                 mutator=dict(type='mmrazor.NasMutator'), **kwargs))


def batch(ann_file: str, img_dir: str) -> Dict:
    with DefaultScope.overwrite_default_scope('mmdet'):
        dataset = DATASETS.build(coco_dataset(ann_file, img_dir))
    return pseudo_collate([dataset[0], dataset[1]])


def chosen(model: DetNAS) -> Dict[str, str]:
    """``{block name in the backbone: chosen candidate}``."""
    return {name: m.current_choice
            for name, m in model.architecture.backbone.named_modules()
            if isinstance(m, OneShotMutableOP)}


@pytest.mark.parametrize('config', [FRCNN, RETINA], ids=['faster-rcnn', 'retinanet'])
def test_train_step_changes_only_the_sampled_backbone_candidates(config, tiny_coco):
    model = build_detnas(config)
    assert isinstance(model, SPOS) and len(model.mutator.search_groups) == 20
    backbone = model.architecture.backbone
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    # plain SGD: momentum or weight decay would not move unsampled weights either,
    # but without them a change can only come from this step's gradients
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    random.seed(3)
    log_vars = model.train_step(batch(*tiny_coco), optim)
    assert all(torch.isfinite(v) for v in log_vars.values())
    path = chosen(model)
    assert len(set(path.values())) > 1  # a mixed path, not one candidate everywhere
    changed = {k for k, v in backbone.state_dict().items() if not torch.equal(v, before[k])}
    candidate_keys = [k for k in before if '._candidates.' in k]
    for key in candidate_keys:
        block, rest = key.split('._candidates.')
        if rest.split('.')[0] != path[block]:
            assert key not in changed, f'{key} is off the sampled path but changed'
    # every block's sampled candidate trained: weights and running statistics moved
    for block, choice in path.items():
        assert any(k.startswith(f'{block}._candidates.{choice}.') for k in changed), block
    assert 'conv1.conv.weight' in changed


def test_search_constraints_measure_the_backbone_only():
    model = build_detnas(FRCNN).eval()
    estimator = ResourceEstimator(input_shape=(1, 3, IMAGE_SIZE, IMAGE_SIZE))
    table = SubnetCostTable(model, estimator)
    random.seed(0)
    for _ in range(2):
        subnet = model.mutator.sample_choices()
        passed, results = check_subnet_resources(model, subnet, estimator,
                                                 dict(flops=(0, 1e9)))
        _, static = export_fix_subnet(model, slice_weight=True)
        backbone = estimator.estimate(static.backbone)
        assert passed and results['flops'] == backbone['flops']
        assert results['params'] == backbone['params']
        assert table.estimate(subnet)['flops'] == pytest.approx(backbone['flops'])
    assert backbone['flops'] < estimator.estimate(static)['flops']  # neck and heads
    too_small = backbone['flops'] / 2
    assert not check_subnet_resources(model, subnet, estimator, dict(flops=too_small))[0]


def test_non_detectors_and_choices_outside_the_backbone_are_refused():
    from .test_spos import supernet as classifier
    with pytest.raises(TypeError, match=r'DetNAS searches the backbone of an mmdet detector'
                                        r'.*got ImageClassifier; use SPOS'):
        MODELS.build(dict(type='mmrazor.DetNAS', architecture=classifier()))
    detector = narrow_detector(RETINA)
    mutable = Config.fromfile(RETINA)._STAGE_MUTABLE.to_dict()
    detector['neck'] = dict(  # a searchable block after the backbone
        _scope_='mmrazor', type='OneShotMutableOP', candidates=mutable['candidates'],
        module_kwargs=dict(in_channels=160, out_channels=160))
    with pytest.raises(ValueError, match=r'backbone only, but search groups .* outside '
                                         r'architecture.backbone'):
        with DefaultScope.overwrite_default_scope('mmdet'):
            MODELS.build(dict(type='mmrazor.DetNAS', architecture=detector))


def test_detnas_ddp_is_the_one_algorithm_ddp():
    assert MODEL_WRAPPERS.get('DetNASDDP') is AlgorithmDDP

