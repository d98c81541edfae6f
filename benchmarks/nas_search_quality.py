"""Search quality on Fashion-MNIST: the evolution-searched subnet against random ones.

Runs the Fashion-MNIST SPOS search config (configs/nas/fashion_mnist/spos) on a trained
supernet checkpoint, then evaluates on the 10k test images, with the supernet's
weights and each after BN recalibration on ``--calibrate`` training images:

* the searched subnet (``best_fix_subnet.yaml``),
* ``--random`` random subnets meeting the same FLOPs budget (seeded),

and reports the searched subnet's accuracy beside the random subnets' median (and
range). The search scores subnets on held-out training images, never on the test set.

    python tools/train.py \
        configs/nas/fashion_mnist/spos/spos_shufflenet-tiny_supernet_1xb128_fashion-mnist.py
    python benchmarks/nas_search_quality.py --supernet work_dirs/.../epoch_5.pth
"""
import argparse
import json
import os.path as osp
import random
import statistics
import time

import torch
from mmengine.config import Config
from mmengine.runner import Runner

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SEARCH = osp.join(REPO, 'configs', 'nas', 'fashion_mnist', 'spos',
                  'spos_shufflenet-tiny_search_1xb128_fashion-mnist.py')


def evaluate(runner: Runner, loader, evaluator, calibrator, subnet: dict,
             calibrate: int) -> float:
    runner.model.mutator.set_choices(subnet)
    calibrator.calibrate_bn_statistics(runner.train_dataloader, calibrate)
    runner.model.eval()
    with torch.no_grad():
        for batch in loader:
            evaluator.process(data_samples=runner.model.val_step(batch), data_batch=batch)
    return evaluator.evaluate(len(loader.dataset))['accuracy/top1']


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--supernet', required=True, help='the supernet checkpoint')
    parser.add_argument('--work-dir', default=osp.join(REPO, 'work_dirs', 'nas_search_quality'))
    parser.add_argument('--random', type=int, default=20)
    parser.add_argument('--calibrate', type=int, default=1024)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default=osp.join(REPO, 'benchmarks',
                                                  'nas_search_quality_fashion_mnist.json'))
    args = parser.parse_args()
    torch.set_num_threads(1)
    from mmrazor.engine.runner.utils import CalibrateBNMixin
    from mmrazor.utils import register_all_modules
    register_all_modules(init_default_scope=False)

    cfg = Config.fromfile(SEARCH)
    cfg.load_from = args.supernet
    cfg.work_dir = args.work_dir
    cfg.randomness = dict(seed=args.seed)
    runner = Runner.from_cfg(cfg)
    start = time.perf_counter()
    runner.train()
    search_s = time.perf_counter() - start
    loop = runner.train_loop
    best = loop.top_k_candidates.subnets[0]

    class Calibrator(CalibrateBNMixin):
        def __init__(self, runner: Runner) -> None:
            self.runner = runner

    calibrator = Calibrator(runner)
    loader = runner.build_dataloader(cfg.test_dataloader)
    evaluator = runner.build_evaluator(cfg.test_evaluator)
    budget = cfg.train_cfg.constraints_range['flops']
    random.seed(args.seed)
    randoms = []
    while len(randoms) < args.random:
        subnet = runner.model.mutator.sample_choices()
        if loop.cost_table.estimate(subnet)['flops'] <= budget[1]:
            randoms.append(subnet)
    best_acc = evaluate(runner, loader, evaluator, calibrator, best, args.calibrate)
    random_accs = [evaluate(runner, loader, evaluator, calibrator, s, args.calibrate)
                   for s in randoms]
    median = statistics.median(random_accs)
    result = dict(
        supernet=args.supernet, search_config=osp.relpath(SEARCH, REPO),
        flops_budget_M=budget, search_s=round(search_s, 1),
        searched=dict(subnet=best, flops_M=loop.cost_table.estimate(best)['flops'],
                      held_out_score=loop.top_k_candidates.scores[0],
                      test_top1=round(best_acc, 2)),
        random=dict(count=len(random_accs), test_top1=[round(a, 2) for a in random_accs],
                    flops_M=[loop.cost_table.estimate(s)['flops'] for s in randoms],
                    median_test_top1=round(median, 2), min=round(min(random_accs), 2),
                    max=round(max(random_accs), 2)),
        gain_over_median=round(best_acc - median, 2), calibrate_samples=args.calibrate,
        seed=args.seed)
    print(f'{"subnet":<24}{"test top-1":>12}')
    print(f'{"searched":<24}{best_acc:>12.2f}')
    print(f'{f"random median (n={len(random_accs)})":<24}{median:>12.2f}')
    print(f'{"random min / max":<24}{min(random_accs):>6.2f} / {max(random_accs):.2f}')
    with open(args.out, 'w') as file:
        json.dump(result, file, indent=2)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
