"""``SubnetCostTable`` on the SPOS ShuffleNetV2 space (MMRazor's config, 224x224): for 20
random subnets its FLOPs and params equal the ResourceEstimator's count of the exported
static subnet; spaces whose choices change shapes or are not op choices are refused
(the search then counts each subnet)."""
import random

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmrazor.engine.runner.utils import check_subnet_resources
from mmrazor.models.task_modules.estimators import SubnetCostTable, UnsupportedSpaceError
from mmrazor.registry import MODELS, TASK_UTILS

from ...conftest import REPO_ROOT

SPACE = f'{REPO_ROOT}/configs/_base_/nas_backbones/spos_shufflenet_supernet.py'


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def spos(backbone: dict, in_channels: int = 1024) -> nn.Module:
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmrazor'):
        return MODELS.build(dict(type='mmrazor.SPOS', architecture=dict(
            _scope_='mmpretrain', type='ImageClassifier', backbone=backbone,
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=1000, in_channels=in_channels))))


def test_tables_equal_the_count_of_the_exported_subnet():
    model = spos(Config.fromfile(SPACE).nas_backbone.to_dict())
    estimator = TASK_UTILS.build(dict(type='mmrazor.ResourceEstimator'))
    table = SubnetCostTable(model, estimator)
    assert set(table.tables) == set(model.mutator.search_groups)  # 20 blocks
    assert all(len(costs) == 4 for costs in table.tables.values())
    random.seed(0)
    figures = []
    for _ in range(20):
        subnet = model.mutator.sample_choices()
        _, counted = check_subnet_resources(model, subnet, estimator, dict(flops=1e4))
        assert table.estimate(subnet) == dict(flops=counted['flops'],
                                              params=counted['params'])
        figures.append(counted['flops'])
    assert len(set(figures)) > 10  # the subnets really differ
    with pytest.raises(KeyError, match=r"missing \['module_0'\]"):
        table.estimate({k: v for k, v in subnet.items() if k != 'module_0'})


class BlockNeck(nn.Module):
    """A searchable block on the backbone's last output, then global pooling."""

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        self.block = block

    def forward(self, feats: tuple) -> tuple:
        return (self.block(feats[-1]).mean((2, 3)), )


def test_choices_that_change_shapes_are_refused():
    # a block whose candidates keep or halve the resolution: costs after it depend on it
    block = dict(_scope_='mmrazor', type='OneShotMutableOP', candidates=dict(
        keep=dict(type='mmrazor.ShuffleBlock', kernel_size=3, stride=1),
        halve=dict(type='mmrazor.ShuffleBlock', kernel_size=3, stride=2)),
        module_kwargs=dict(in_channels=32, out_channels=32))
    model = spos(dict(_scope_='mmrazor', type='SearchableShuffleNetV2',
                      arch_setting=[[32, 1, dict(type='mmrazor.OneShotMutableOP',
                                                 candidates=dict(
                                                     a=dict(type='ShuffleBlock',
                                                            kernel_size=3)))]],
                      with_last_layer=False, out_indices=(0, )), in_channels=32)
    model.architecture.neck = BlockNeck(MODELS.build(block))
    model.mutator.prepare_from_supernet(model.architecture)
    estimator = TASK_UTILS.build(dict(type='mmrazor.ResourceEstimator',
                                      input_shape=(1, 3, 32, 32)))
    with pytest.raises(UnsupportedSpaceError, match=r'gives \(1, 32, (4|8), (4|8)\) or'):
        SubnetCostTable(model, estimator)
    assert SubnetCostTable.try_build(model, estimator) is None
