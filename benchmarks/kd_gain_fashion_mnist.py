"""Does distillation help? Student with KD vs the same student alone, on Fashion-MNIST.

Trains the teacher once (vanilla ResNet-14 w32), then for each seed trains the student
(ResNet-14 w16) alone and with each KD config, same seed, same epochs, same schedule,
on the full 60k training images, and tests each on the 10k test images. Prints a table
and writes JSON (accuracies, mean and spread per method, wall times).

    python benchmarks/kd_gain_fashion_mnist.py --epochs 3 --teacher-epochs 3 --seeds 0 1
"""
import argparse
import json
import os
import os.path as osp
import shutil
import statistics
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TEACHER_CFG = 'configs/vanilla/fashion_mnist/resnet14-w32_1xb128_fashion-mnist.py'
STUDENT_CFG = 'configs/vanilla/fashion_mnist/resnet14-w16_1xb128_fashion-mnist.py'
KD_CFGS = {
    'kd': 'configs/distill/fashion_mnist/kd/'
    'kd_logits_resnet14-w32_resnet14-w16_1xb128_fashion-mnist.py',
    'dkd': 'configs/distill/fashion_mnist/dkd/'
    'dkd_resnet14-w32_resnet14-w16_1xb128_fashion-mnist.py',
    'fitnets': 'configs/distill/fashion_mnist/fitnets/'
    'fitnets_backbone_logits_resnet14-w32_resnet14-w16_1xb128_fashion-mnist.py',
}


def train_and_test(config: str, work_dir: str, epochs: int, seed: int,
                   extra: list, reuse: bool = False) -> dict:
    """Train ``config`` (unless ``reuse`` finds its last checkpoint), test that
    checkpoint; return the test accuracy and the training wall time."""
    options = [f'train_cfg.max_epochs={epochs}', f'param_scheduler.1.T_max={epochs}',
               f'randomness.seed={seed}',
               'default_hooks.checkpoint.save_best=None',
               'default_hooks.logger.interval=100'] + extra
    start = time.time()
    last_ckpt = osp.join(work_dir, f'epoch_{epochs}.pth')
    if not (reuse and osp.isfile(last_ckpt)):
        subprocess.run([sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
                        '--cfg-options'] + options, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    train_s = time.time() - start
    metrics_file = osp.join(work_dir, 'test_metrics.json')
    subprocess.run([sys.executable, 'tools/test.py', config,
                    osp.join(work_dir, f'epoch_{epochs}.pth'), '--work-dir', work_dir,
                    '--out', metrics_file] + (['--cfg-options'] + extra if extra else []),
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    with open(metrics_file) as f:
        accuracy = json.load(f)['accuracy/top1']
    return dict(accuracy=accuracy, train_s=round(train_s, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--teacher-epochs', type=int, default=3)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--methods', nargs='+', default=['kd'], choices=sorted(KD_CFGS))
    parser.add_argument('--train-images', type=int, default=None,
                        help='train on the first N training images (default: all 60k)')
    parser.add_argument('--work-dir', default='work_dirs/kd_gain_fashion_mnist')
    parser.add_argument('--out', default='benchmarks/kd_gain_fashion_mnist.json')
    args = parser.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    subset = ([f'train_dataloader.dataset.indices={args.train_images}']
              if args.train_images else [])
    teacher_dir = osp.join(args.work_dir, 'teacher')
    # a teacher trained by an earlier run of the same length is reused
    teacher = train_and_test(TEACHER_CFG, teacher_dir, args.teacher_epochs, 0, subset,
                             reuse=True)
    teacher_ckpt = osp.abspath(osp.join(args.work_dir, 'teacher.pth'))
    shutil.copy(osp.join(teacher_dir, f'epoch_{args.teacher_epochs}.pth'), teacher_ckpt)
    print(f'teacher: {teacher}', flush=True)

    runs = {name: [] for name in ['vanilla'] + args.methods}
    for seed in args.seeds:
        runs['vanilla'].append(train_and_test(
            STUDENT_CFG, osp.join(args.work_dir, f'vanilla_s{seed}'), args.epochs, seed,
            subset))
        for name in args.methods:
            runs[name].append(train_and_test(
                KD_CFGS[name], osp.join(args.work_dir, f'{name}_s{seed}'), args.epochs, seed,
                [f'model.teacher_ckpt={teacher_ckpt}'] + subset))
        print(f'seed {seed}: ' + ', '.join(f'{k} {v[-1]["accuracy"]:.2f}'
                                           for k, v in runs.items()), flush=True)

    summary = {}
    print(f'\n| student (ResNet-14 w16), {args.epochs} epochs | top-1 per seed | mean | '
          'spread (max-min) | train s/run |\n|---|---|---|---|---|')
    print(f'| teacher ResNet-14 w32, {args.teacher_epochs} epochs | '
          f'{teacher["accuracy"]:.2f} | | | {teacher["train_s"]:.0f} |')
    for name, results in runs.items():
        accs = [r['accuracy'] for r in results]
        summary[name] = dict(accuracies=accs, mean=statistics.mean(accs),
                             spread=max(accs) - min(accs),
                             train_s=statistics.mean(r['train_s'] for r in results))
        print(f'| {name} | {", ".join(f"{a:.2f}" for a in accs)} | '
              f'{summary[name]["mean"]:.2f} | {summary[name]["spread"]:.2f} | '
              f'{summary[name]["train_s"]:.0f} |')
    for name in args.methods:
        print(f'gain of {name} over vanilla: '
              f'{summary[name]["mean"] - summary["vanilla"]["mean"]:+.2f} points')
    with open(args.out, 'w') as f:
        json.dump(dict(teacher=teacher, runs=runs, summary=summary, epochs=args.epochs,
                       teacher_epochs=args.teacher_epochs, seeds=args.seeds,
                       train_images=args.train_images or 60000), f, indent=1)


if __name__ == '__main__':
    main()
