"""Overhead of mmrazor's distillation machinery on a KD train step.

Measures, in the same process and interleaved, (a) ``SingleTeacherDistill.train_step``
of mmpretrain ResNet-34 -> ResNet-18 with logits KD (recorders, distiller, prefixes,
loss parsing) and (b) the same work written by hand: teacher forward under no_grad,
student forward/backward, the KL loss computed directly, one SGD step. Reports the
median time of each and their ratio (target <= 1.03).

    python benchmarks/kd_overhead.py [--batch 32] [--steps 6] [--out kd_overhead.json]
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper

from mmrazor.registry import MODELS
from mmrazor.utils import register_all_modules


def build_algorithm():
    return MODELS.build(dict(
        type='SingleTeacherDistill',
        architecture=dict(cfg_path='mmcls::resnet/resnet18_8xb32_in1k.py'),
        teacher=dict(cfg_path='mmcls::resnet/resnet34_8xb32_in1k.py'),
        distiller=dict(
            type='ConfigurableDistiller',
            student_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
            teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
            distill_losses=dict(loss_kl=dict(type='KLDivergence', tau=1, loss_weight=3)),
            loss_forward_mappings=dict(loss_kl=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc'))))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--steps', type=int, default=6)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--out', default='benchmarks/kd_overhead.json')
    args = parser.parse_args()
    register_all_modules(init_default_scope=False)
    torch.manual_seed(0)
    algo = build_algorithm()
    algo.train()
    student, teacher = algo.student, algo.teacher
    params = [p for p in algo.parameters() if p.requires_grad]
    optim = OptimWrapper(torch.optim.SGD(params, lr=1e-4, momentum=0.9))
    from mmpretrain.structures import DataSample
    inputs = torch.randn(args.batch, 3, args.size, args.size)
    samples = [DataSample().set_gt_label(i % 1000) for i in range(args.batch)]

    def mmrazor_step():
        losses = algo(inputs, samples, mode='loss')
        loss, _ = algo.parse_losses(losses)
        optim.update_params(loss)

    def hand_step():
        with torch.no_grad():
            t_logits = teacher(inputs, mode='tensor')
        feats = student.extract_feat(inputs)
        s_logits = student.head(feats)
        ce = student.head.loss_module(s_logits, torch.tensor([s.gt_label for s in samples]))
        kl = 3 * F.kl_div(F.log_softmax(s_logits, 1), F.softmax(t_logits, 1),
                          reduction='batchmean')
        optim.update_params(ce + kl)

    times = {'mmrazor': [], 'by_hand': []}
    for step in range(args.steps + 1):  # step 0 warms up both
        for name, fn in (('mmrazor', mmrazor_step), ('by_hand', hand_step)):
            start = time.perf_counter()
            fn()
            if step:
                times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med['mmrazor'] / med['by_hand']
    print('| step | median s | all s |\n|---|---|---|')
    for name, values in times.items():
        print(f'| {name} | {med[name]:.3f} | {", ".join(f"{v:.2f}" for v in values)} |')
    print(f'ratio mmrazor / by hand: {ratio:.3f} (batch {args.batch}, {args.size}px, '
          f'{torch.get_num_threads()} threads)')
    with open(args.out, 'w') as f:
        json.dump(dict(median_s=med, all_s=times, ratio=ratio, batch=args.batch,
                       size=args.size, threads=torch.get_num_threads()), f, indent=1)


if __name__ == '__main__':
    main()
