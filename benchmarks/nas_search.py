"""Estimation rate inside the evolution search: cost tables beside forward counting.

On the SPOS ShuffleNetV2 space (MMRazor's config, 224x224, one thread) this measures
how many candidates per second get their FLOPs and params

* by ``SubnetCostTable`` (per-op tables built once; one look-up per search group),
* by counting (``check_subnet_resources``: export the static subnet, count it with
  the ResourceEstimator), what MMRazor does for every candidate,

on the same random subnets, checks that both give the same figures, and reports the
rates, the ratio and the tables' one-off build time. Goal: >= 2000 candidates/s.

    python benchmarks/nas_search.py [--table-candidates 20000] [--count-candidates 10]
"""
import argparse
import json
import os.path as osp
import random
import time

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SPACE = osp.join(REPO, 'configs', '_base_', 'nas_backbones', 'spos_shufflenet_supernet.py')


def build_spos() -> torch.nn.Module:
    from mmrazor.registry import MODELS
    backbone = Config.fromfile(SPACE).nas_backbone.to_dict()
    with DefaultScope.overwrite_default_scope('mmrazor'):
        return MODELS.build(dict(type='mmrazor.SPOS', architecture=dict(
            _scope_='mmpretrain', type='ImageClassifier', backbone=backbone,
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=1000, in_channels=1024))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--table-candidates', type=int, default=20000)
    parser.add_argument('--count-candidates', type=int, default=10)
    parser.add_argument('--out', default=osp.join(REPO, 'benchmarks', 'nas_search.json'))
    args = parser.parse_args()
    torch.set_num_threads(1)
    from mmrazor.engine.runner.utils import check_subnet_resources
    from mmrazor.models.task_modules.estimators import SubnetCostTable
    from mmrazor.registry import TASK_UTILS
    from mmrazor.utils import register_all_modules
    register_all_modules(init_default_scope=False)

    model = build_spos()
    estimator = TASK_UTILS.build(dict(type='mmrazor.ResourceEstimator'))
    start = time.perf_counter()
    table = SubnetCostTable(model, estimator)
    build_s = time.perf_counter() - start
    random.seed(0)
    subnets = [model.mutator.sample_choices() for _ in range(args.table_candidates)]

    start = time.perf_counter()
    by_table = [table.estimate(subnet) for subnet in subnets]
    table_s = time.perf_counter() - start

    start = time.perf_counter()
    by_count = [check_subnet_resources(model, subnet, estimator, dict(flops=1e9))[1]
                for subnet in subnets[:args.count_candidates]]
    count_s = time.perf_counter() - start
    mismatches = sum(t != dict(flops=c['flops'], params=c['params'])
                     for t, c in zip(by_table, by_count))

    table_rate = len(subnets) / table_s
    count_rate = len(by_count) / count_s
    result = dict(
        space='SPOS ShuffleNetV2 (configs/_base_/nas_backbones/spos_shufflenet_supernet.py)',
        input_shape=[1, 3, 224, 224], threads=1, table_build_s=round(build_s, 3),
        table_candidates=len(subnets), table_candidates_per_s=round(table_rate, 1),
        count_candidates=len(by_count), count_candidates_per_s=round(count_rate, 3),
        ratio=round(table_rate / count_rate, 1), goal_candidates_per_s=2000,
        mismatches_of_compared=f'{mismatches}/{len(by_count)}')
    print(f'{"method":<28}{"candidates":>12}{"seconds":>10}{"candidates/s":>15}')
    print(f'{"cost tables (SubnetCostTable)":<28}{len(subnets):>12}{table_s:>10.3f}'
          f'{table_rate:>15.1f}')
    print(f'{"forward counting":<28}{len(by_count):>12}{count_s:>10.3f}{count_rate:>15.3f}')
    print(f'ratio {result["ratio"]}x; tables built once in {build_s:.2f} s; figures equal '
          f'on {len(by_count) - mismatches}/{len(by_count)} compared candidates')
    with open(args.out, 'w') as file:
        json.dump(result, file, indent=2)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
