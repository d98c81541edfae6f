"""The README's main job: compress a model end to end on real data that ships offline.

Trains the Fashion-MNIST teacher (ResNet-14 w32), the student (ResNet-14 w16) alone and
the student distilled from the teacher (logits KD), all with the same seed and schedule;
prunes the trained teacher to about half its FLOPs (L1-norm filter pruning, traced
channel units) and fine-tunes it; tests each on the 10k test images, and prints one
table: test accuracy, parameters, multiply-accumulates and CPU latency of the model that
deploys (for pruning: the exported static model), and what distillation and pruning
gained; quantizes the trained teacher to int8 after training (PTQ: 32 calibration
batches of training images) and deploys it on torch's int8 CPU kernels. Uses a GPU for
training when there is one; latency is always measured on the CPU.

    python tools/demo_compression.py [--train-images 30000] [--epochs 1]
        [--teacher-epochs 2] [--work-dir work_dirs/demo_compression]
"""
import argparse
import json
import os
import os.path as osp
import statistics
import time
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmengine.utils import ProgressBar

from mmrazor.models.algorithms import architecture_of
from mmrazor.models.task_modules.estimators import count_model, get_model_latency
from mmrazor.structures import export_fix_subnet
from mmrazor.utils import build_model_from_config, register_all_modules

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TEACHER = 'configs/vanilla/fashion_mnist/resnet14-w32_1xb128_fashion-mnist.py'
STUDENT = 'configs/vanilla/fashion_mnist/resnet14-w16_1xb128_fashion-mnist.py'
PRUNE = 'configs/pruning/fashion_mnist/l1-norm/l1-norm_resnet14-w32_1xb128_fashion-mnist.py'
KD = ('configs/distill/fashion_mnist/kd/'
      'kd_logits_resnet14-w32_resnet14-w16_1xb128_fashion-mnist.py')
PTQ = 'configs/quantization/ptq/fashion_mnist/ptq_openvino_resnet14-w32_fashion-mnist.py'
INPUT_SHAPE = (1, 1, 28, 28)


class ProgressBarHook(Hook):
    """One progress bar over all training iterations of a run."""

    priority = 'VERY_LOW'

    def __init__(self, title: str) -> None:
        self.title = title
        self.bar: Optional[ProgressBar] = None

    def before_train(self, runner) -> None:
        print(f'\n{self.title}', flush=True)
        self.bar = ProgressBar(runner.max_iters)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self.bar.update()

    def after_train(self, runner) -> None:
        print(flush=True)


def run_config(config: str, work_dir: str, title: str, args: argparse.Namespace,
               epochs: int, deploy_config: Optional[str], options: Optional[Dict] = None
               ) -> Dict:
    """Train ``config`` on the training slice, test it on the test set, and measure the
    model that deploys: ``deploy_config`` with the trained weights (for KD, the student
    alone, as ``tools/model_converters/convert_kd_ckpt_to_student.py`` exports it), or,
    without one, the static model a pruning algorithm exports."""
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.merge_from_dict(options or {})
    cfg.work_dir = work_dir
    cfg.log_level = 'ERROR'  # the progress bars and the table are the output
    cfg.randomness = dict(seed=args.seed)
    cfg.train_cfg.max_epochs = epochs
    for scheduler in cfg.param_scheduler:  # the cosine decay ends with training
        if 'T_max' in scheduler:
            scheduler.T_max = epochs
    cfg.train_dataloader.dataset.indices = args.train_images
    cfg.test_dataloader.dataset.indices = args.test_images  # None: all 10k
    for split in ('train_dataloader', 'test_dataloader'):
        cfg[split].dataset.data_root = args.data_root
    # no validation during training: the test set is evaluated once at the end
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.train_cfg.pop('val_interval', None)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=epochs,
                                        save_last=True)
    runner = Runner.from_cfg(cfg)
    runner.register_hook(ProgressBarHook(title))
    start = time.time()
    runner.train()
    train_s = time.time() - start
    metrics = runner.test()
    model = runner.model.module if hasattr(runner.model, 'module') else runner.model
    if deploy_config is None:  # pruned: the static model with only the kept channels
        deployed = export_fix_subnet(model, 'mutator', slice_weight=True)[1]
    else:
        trained = architecture_of(model)  # a KD student without its teacher
        deployed = build_model_from_config(Config.fromfile(osp.join(ROOT, deploy_config)))
        deployed.load_state_dict(trained.state_dict())
    return dict(accuracy=metrics['accuracy/top1'], train_s=train_s,
                checkpoint=osp.join(work_dir, f'epoch_{epochs}.pth'), model=deployed,
                **size(deployed))


def run_ptq(checkpoint: str, work_dir: str, args: argparse.Namespace) -> Dict:
    """Calibrate the trained teacher to int8 (``tools/ptq.py``'s loop) and test the
    int8 model that deploys: the graph lowered to torch's quantized CPU kernels."""
    print('\n[5/5] teacher quantized to int8 (PTQ, 32 calibration batches)', flush=True)
    cfg = Config.fromfile(osp.join(ROOT, PTQ))
    cfg.model.float_checkpoint = checkpoint
    cfg.work_dir = work_dir
    cfg.log_level = 'ERROR'
    cfg.randomness = dict(seed=args.seed)
    cfg.test_dataloader.dataset.indices = args.test_images
    for loader in (cfg.test_dataloader, cfg.test_cfg.calibrate_dataloader):
        loader.dataset.data_root = args.data_root
    runner = Runner.from_cfg(cfg)
    start = time.time()
    runner.test()  # calibrates, then tests the fake-quantized model
    calibrate_s = time.time() - start
    int8 = runner.model.get_int8_model()
    correct = total = 0
    with torch.no_grad():
        for batch in runner.test_dataloader:
            data = runner.model.data_preprocessor(batch, False)
            logits = int8(data['inputs'].cpu())  # int8 kernels run on the CPU
            labels = torch.cat([sample.gt_label for sample in data['data_samples']]).cpu()
            correct += int((logits.argmax(1) == labels).sum())
            total += len(labels)
    return dict(accuracy=100.0 * correct / total, train_s=calibrate_s, model=int8,
                **size(architecture_of(runner.model)))


def size(model: nn.Module) -> Dict:
    """Params and MACs per image of the deployed model."""
    report = count_model(model.to('cpu').eval(), INPUT_SHAPE)
    return dict(params=report.total_params, macs=report.total_macs)


def latencies(models: List[nn.Module], runs: int, rounds: int = 5) -> List[Dict]:
    """Median CPU latency (batch 1) of each model, timed in turns after all training:
    ``rounds`` rounds of ``runs / rounds`` runs each, so that load changes on a shared
    machine hit every model alike. Reports the median of the round medians and their
    range."""
    medians: List[List[float]] = [[] for _ in models]
    for _ in range(rounds):
        for model, found in zip(models, medians):
            _, stats = get_model_latency(model.eval(), INPUT_SHAPE,
                                         max_iter=max(1, runs // rounds), num_warmup=3,
                                         return_stats=True)
            found.append(stats.median * 1e3)
    return [dict(latency_ms=statistics.median(found), latency_range_ms=max(found) - min(found),
                 threads=torch.get_num_threads()) for found in medians]


def table(rows: List[Dict], args: argparse.Namespace) -> str:
    lines = ['| model | test top-1 (%) | params | MACs / image | CPU latency, batch 1 '
             '(median, range over rounds) | train time |', '|---|---|---|---|---|---|']
    for row in rows:
        lines.append(f'| {row["name"]} | {row["accuracy"]:.2f} | {row["params"] / 1e6:.3f} M '
                     f'| {row["macs"] / 1e6:.1f} M | {row["latency_ms"]:.2f} ms '
                     f'({row["latency_range_ms"]:.2f}) | {row["train_s"]:.0f} s |')
    return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> Dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--train-images', type=int, default=30000,
                        help='train on the first N of the 60k training images')
    parser.add_argument('--epochs', type=int, default=1, help='student epochs')
    parser.add_argument('--teacher-epochs', type=int, default=2)
    parser.add_argument('--test-images', type=int, default=None,
                        help='test on the first N of the 10k test images (default: all)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--latency-runs', type=int, default=100)
    parser.add_argument('--data-root', default=osp.join(ROOT, 'data/fashion_mnist'))
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs/demo_compression'))
    args = parser.parse_args(argv)
    register_all_modules(init_default_scope=False)
    torch.set_num_threads(max(1, min(torch.get_num_threads(), os.cpu_count() or 1)))
    start = time.time()
    data = f'first {args.train_images} train images'
    teacher = run_config(TEACHER, osp.join(args.work_dir, 'teacher'),
                         f'[1/5] teacher ResNet-14 w32: {args.teacher_epochs} epochs, {data}',
                         args, args.teacher_epochs, TEACHER)
    student = run_config(STUDENT, osp.join(args.work_dir, 'student'),
                         f'[2/5] student ResNet-14 w16 alone: {args.epochs} epochs, {data}',
                         args, args.epochs, STUDENT)
    distilled = run_config(KD, osp.join(args.work_dir, 'student_kd'),
                           f'[3/5] student + logits KD from the teacher: {args.epochs} '
                           f'epochs, {data}', args, args.epochs, STUDENT,
                           dict(model=dict(teacher_ckpt=teacher['checkpoint'])))
    pruned = run_config(PRUNE, osp.join(args.work_dir, 'teacher_pruned'),
                        f'[4/5] teacher pruned to ~50% FLOPs (L1 norm) + fine-tuning: '
                        f'{args.epochs} epochs, {data}', args, args.epochs, None,
                        dict(model=dict(architecture=dict(init_cfg=dict(
                            type='Pretrained', checkpoint=teacher['checkpoint']))),
                             val_cfg=None, custom_hooks=[]))
    quantized = run_ptq(teacher['checkpoint'], osp.join(args.work_dir, 'teacher_int8'), args)
    runs = (teacher, student, distilled, pruned, quantized)
    for row, timing in zip(runs, latencies([r.pop('model') for r in runs], args.latency_runs)):
        row.update(timing)
    rows = [dict(name=f'teacher ResNet-14 w32 ({args.teacher_epochs} ep)', **teacher),
            dict(name=f'student ResNet-14 w16 alone ({args.epochs} ep)', **student),
            dict(name=f'student ResNet-14 w16 + KD ({args.epochs} ep)', **distilled),
            dict(name=f'teacher pruned, L1 norm, + fine-tuning ({args.epochs} ep)', **pruned),
            dict(name='teacher int8 (PTQ, torch int8 kernels)', **quantized)]
    tested = f'the first {args.test_images}' if args.test_images else 'all 10k'
    print(f'\nFashion-MNIST, trained on the {data}, tested on {tested} test images; '
          f'latency on {teacher["threads"]} CPU threads.\n')
    print(table(rows, args))
    gain = distilled['accuracy'] - student['accuracy']
    print(f'\nDistillation gained {gain:+.2f} points of test accuracy for the student, which '
          f'has {teacher["params"] / student["params"]:.1f}x fewer parameters and '
          f'{teacher["macs"] / student["macs"]:.1f}x fewer MACs than its teacher '
          f'({distilled["accuracy"] - teacher["accuracy"]:+.2f} points from it). '
          f'Pruning took the teacher to {pruned["macs"] / teacher["macs"]:.2f}x its MACs and '
          f'{pruned["latency_ms"] / teacher["latency_ms"]:.2f}x its latency at '
          f'{pruned["accuracy"] - teacher["accuracy"]:+.2f} points of accuracy; int8 '
          f'quantization to {quantized["latency_ms"] / teacher["latency_ms"]:.2f}x its '
          f'latency at {quantized["accuracy"] - teacher["accuracy"]:+.2f} points. '
          f'Total {time.time() - start:.0f} s.')
    summary = dict(rows=rows, gain=gain, train_images=args.train_images, epochs=args.epochs,
                   teacher_epochs=args.teacher_epochs, seed=args.seed,
                   total_s=time.time() - start)
    os.makedirs(args.work_dir, exist_ok=True)
    with open(osp.join(args.work_dir, 'summary.json'), 'w') as file:
        json.dump(summary, file, indent=1)
    return summary


if __name__ == '__main__':
    main()
