"""FLOPs/params counting: our figures and counting time beside the tools users pick.

For torchvision ResNet-50 and ViT-B/16 (``nn.MultiheadAttention``) and mmpretrain's
ViT-B/16 (attention as ``F.scaled_dot_product_attention``), at 224x224, batch 1, this
counts multiply-accumulates (MACs) and parameters with

* mmrazor (``count_model``),
* ``torch.utils.flop_counter.FlopCounterMode`` (torch's own; it reports 2 FLOPs per MAC),
* ``mmengine.analysis.get_model_complexity_info`` (the OpenMMLab tool, fvcore-based),
* ``ptflops`` and ``thop`` when installed (``pip install ptflops thop``),

and times each counting pass (median of ``--repeats``, tools interleaved) against a
plain forward pass of the same model. Published figures (torchvision model cards,
mmpretrain's model zoo) are printed beside.

    python benchmarks/flops_counting.py [--repeats 5] [--out benchmarks/flops_counting.json]
"""
import argparse
import importlib.util
import json
import logging
import statistics
import time
import warnings
from typing import Callable, Dict, Tuple

import torch
import torch.nn as nn
import torchvision
from mmengine.logging import MMLogger

from mmrazor.models.task_modules.estimators import count_model
from mmrazor.utils import build_model_from_cfg_path, register_all_modules

PUBLISHED = {  # GMACs, M params
    'torchvision ResNet-50': (4.089, 25.557),
    'torchvision ViT-B/16': (17.564, 86.568),
    'mmpretrain ViT-B/16': (17.58, 86.57),
}
Count = Tuple[float, float]  # (MACs, params)


def models() -> Dict[str, nn.Module]:
    return {
        'torchvision ResNet-50': torchvision.models.resnet50(weights=None),
        'torchvision ViT-B/16': torchvision.models.vit_b_16(weights=None),
        'mmpretrain ViT-B/16': build_model_from_cfg_path(
            'mmpretrain::vision_transformer/vit-base-p16_64xb64_in1k.py',
            backbone=dict(init_cfg=None), head=dict(hidden_dim=None)),
    }


def forward(model: nn.Module, x: torch.Tensor) -> Count:
    with torch.no_grad():
        model(x)
    return float('nan'), float('nan')


def mmrazor(model: nn.Module, x: torch.Tensor) -> Count:
    report = count_model(model, tuple(x.shape))
    return report.total_macs, report.total_params


def flop_counter_mode(model: nn.Module, x: torch.Tensor) -> Count:
    from torch.utils.flop_counter import FlopCounterMode
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops() / 2, sum(p.numel() for p in model.parameters())


def mmengine_analysis(model: nn.Module, x: torch.Tensor) -> Count:
    from mmengine.analysis import get_model_complexity_info
    with torch.no_grad():
        info = get_model_complexity_info(model, inputs=(x,), show_table=False,
                                         show_arch=False)
    return info['flops'], info['params']


def ptflops(model: nn.Module, x: torch.Tensor) -> Count:
    from ptflops import get_model_complexity_info
    macs, params = get_model_complexity_info(model, tuple(x.shape[1:]), as_strings=False,
                                             print_per_layer_stat=False, verbose=False)
    return macs, params


def thop(model: nn.Module, x: torch.Tensor) -> Count:
    from thop import profile
    macs, params = profile(model, inputs=(x,), verbose=False)
    for module in model.modules():  # thop leaves its buffers behind
        for name in ('total_ops', 'total_params'):
            module._buffers.pop(name, None)
    return macs, params


def tools() -> Dict[str, Callable[[nn.Module, torch.Tensor], Count]]:
    found = {'plain forward': forward, 'mmrazor': mmrazor,
             'FlopCounterMode': flop_counter_mode, 'mmengine.analysis': mmengine_analysis}
    for name, func in (('ptflops', ptflops), ('thop', thop)):
        if importlib.util.find_spec(name) is not None:
            found[name] = func
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--out', default='benchmarks/flops_counting.json')
    args = parser.parse_args()
    register_all_modules(init_default_scope=False)
    warnings.filterwarnings('ignore')
    MMLogger.get_current_instance().setLevel(logging.ERROR)  # mmengine.analysis's op notes
    x = torch.randn(1, 3, 224, 224)
    results = []
    for model_name, model in models().items():
        model.eval()
        counts: Dict[str, Count] = {}
        times: Dict[str, list] = {name: [] for name in tools()}
        for _ in range(args.repeats):  # interleaved: load changes hit every tool alike
            for tool, func in tools().items():
                start = time.perf_counter()
                counts[tool] = func(model, x)
                times[tool].append(time.perf_counter() - start)
        base = statistics.median(times['plain forward'])
        for tool in tools():
            macs, params = counts[tool]
            median = statistics.median(times[tool])
            results.append(dict(model=model_name, tool=tool, gmacs=macs / 1e9,
                                mparams=params / 1e6, seconds=median, vs_forward=median / base,
                                published_gmacs=PUBLISHED[model_name][0],
                                published_mparams=PUBLISHED[model_name][1]))
    header = f'{"model":24} {"tool":18} {"GMACs":>8} {"M params":>9} {"time s":>8} {"x fwd":>6}'
    print(header + '\n' + '-' * len(header))
    for row in results:
        print(f'{row["model"]:24} {row["tool"]:18} {row["gmacs"]:8.3f} {row["mparams"]:9.3f} '
              f'{row["seconds"]:8.3f} {row["vs_forward"]:6.2f}')
    for name, (gmacs, mparams) in PUBLISHED.items():
        print(f'published {name}: {gmacs} GMACs, {mparams} M params')
    meta = dict(threads=torch.get_num_threads(), torch=torch.__version__, repeats=args.repeats,
                input_shape=[1, 3, 224, 224])
    with open(args.out, 'w') as file:
        json.dump(dict(meta=meta, results=results), file, indent=2)


if __name__ == '__main__':
    main()
