"""NAS supernets: exported subnets are exact, and the supernet costs little extra.

For each searchable backbone (the MMRazor-1.x supernet configs in
``configs/_base_/nas_backbones``, and AutoFormer's supernet config), 20 random subnets
are chosen, the static subnet is exported with ``export_fix_subnet(slice_weight=True)``
and both are run on one batch (eval mode, float32): the max abs difference must be
<= 1e-5. Then the training step (forward + backward) of the supernet with its largest
subnet chosen is timed against the step of the exported static equivalent, interleaved
in rounds in the same process (goal: ratio <= 1.15). Prints a table and writes JSON.

    python benchmarks/nas_exactness_overhead.py [--subnets 20] [--rounds 5] [--steps 3]
"""
import argparse
import copy
import json
import os.path as osp
import random
import statistics
import time
from typing import Callable, Dict, List

import torch
import torch.nn as nn
from mmengine.config import Config

from mmrazor.models.mutators import NasMutator
from mmrazor.registry import MODELS
from mmrazor.structures import export_fix_subnet
from mmrazor.utils import register_all_modules

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
BACKBONES = {
    'SearchableShuffleNetV2 (SPOS)': ('spos_shufflenet_supernet.py', {}, 64),
    'AttentiveMobileNetV3 (BigNAS)': ('attentive_mobilenetv3_supernet.py', {}, 64),
    'AttentiveMobileNetV3 (OFA)': ('ofa_mobilenetv3_supernet.py', {}, 64),
    # MMRazor keeps AutoFormer's space in its supernet config; 64x64 inputs, 16 patches
    'AutoformerBackbone (Autoformer)': (
        '../../nas/mmcls/autoformer/autoformer_supernet_32xb256_in1k.py', dict(img_size=64),
        64),
}


def build(config: str, overrides: Dict) -> nn.Module:
    cfg = Config.fromfile(osp.join(ROOT, 'configs/_base_/nas_backbones', config))
    nas_backbone = cfg.get('nas_backbone') or cfg.model.architecture.backbone
    backbone = MODELS.build(dict(nas_backbone, **overrides))
    if hasattr(backbone, 'init_weights'):
        backbone.init_weights()
    with torch.no_grad():  # non-trivial BN statistics, so eval mode uses them
        for module in backbone.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.affine:
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.weight.uniform_(0.5, 1.5)
    return backbone


def output(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = model(x)
    return out[-1] if isinstance(out, (tuple, list)) else out


def exactness(backbone: nn.Module, mutator: NasMutator, size: int, subnets: int) -> Dict:
    backbone.eval()
    x = torch.rand(2, 3, size, size)
    diffs: List[float] = []
    for _ in range(subnets):
        mutator.set_choices(mutator.sample_choices())
        with torch.no_grad():
            expected = output(backbone, x)
            _, static = export_fix_subnet(copy.deepcopy(backbone), slice_weight=True)
            got = output(static.eval(), x)
        diffs.append(float((got - expected).abs().max()))
    return dict(subnets=subnets, max_abs_diff=max(diffs), all_within_1e5=max(diffs) <= 1e-5)


def step_time(model: nn.Module, x: torch.Tensor, steps: int) -> float:
    def one() -> None:
        model.zero_grad(set_to_none=True)
        output(model, x).float().mean().backward()
    one()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        one()
    return (time.perf_counter() - start) / steps


def overhead(backbone: nn.Module, mutator: NasMutator, size: int, rounds: int,
             steps: int) -> Dict:
    mutator.set_choices(mutator.max_choices)
    _, static = export_fix_subnet(copy.deepcopy(backbone), slice_weight=True)
    backbone.train()
    static.train()
    x = torch.rand(8, 3, size, size)
    timings: Dict[str, List[float]] = {'supernet': [], 'static': []}
    runners: Dict[str, Callable[[], float]] = {
        'supernet': lambda: step_time(backbone, x, steps),
        'static': lambda: step_time(static, x, steps)}
    for _ in range(rounds):
        for name, run in runners.items():
            timings[name].append(run())
    supernet, plain = (statistics.median(timings[k]) for k in ('supernet', 'static'))
    return dict(batch=8, supernet_step_ms=supernet * 1e3, static_step_ms=plain * 1e3,
                ratio=supernet / plain)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--subnets', type=int, default=20)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--out', default=osp.join(ROOT, 'benchmarks/nas_exactness_overhead.json'))
    args = parser.parse_args()
    register_all_modules(init_default_scope=False)
    torch.manual_seed(0)
    random.seed(0)
    results = {}
    for name, (config, overrides, size) in BACKBONES.items():
        backbone = build(config, overrides)
        mutator = NasMutator()
        mutator.prepare_from_supernet(backbone)
        results[name] = dict(input=size, **exactness(backbone, mutator, size, args.subnets),
                             **overhead(backbone, mutator, size, args.rounds, args.steps))
    print('| backbone | subnets | max abs diff | supernet step (ms) | static step (ms) '
          '| ratio (goal <= 1.15) |\n|---|---|---|---|---|---|')
    for name, row in results.items():
        print(f'| {name} | {row["subnets"]} | {row["max_abs_diff"]:.2e} | '
              f'{row["supernet_step_ms"]:.1f} | {row["static_step_ms"]:.1f} | '
              f'{row["ratio"]:.2f} |')
    meta = dict(threads=torch.get_num_threads(), torch=torch.__version__,
                date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))
    with open(args.out, 'w') as file:
        json.dump(dict(meta=meta, results=results), file, indent=1)


if __name__ == '__main__':
    main()
