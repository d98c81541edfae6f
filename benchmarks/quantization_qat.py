"""Quantization-aware training against PTQ, at 8-bit and at 4-bit weights, on Fashion-MNIST.

From the float ResNet-14 w32 of ``quantization_ptq.py`` (same checkpoint, trained there
and cached in the work dir), for each weight bit width in ``--w-bits`` (activations
8 bit, ``OpenVINOQuantizer``: per-channel symmetric weights, affine quint8
activations):

* PTQ: ``--calib-batches`` calibration batches of 32 training images;
* QAT: the same calibration, then ``--epochs`` of training through
  ``MMArchitectureQuant``'s ``'loss'`` graph (conv-BN folded into ``QConvBn2d``,
  ``FakeQuantize`` with observers on, as MMRazor's ``QATEpochBasedLoop``);
* LSQ: ``LearnableFakeQuantize`` with ``LSQPerChannelObserver`` / ``LSQObserver``; the
  first batch sets the step sizes (static estimate), then they learn with the weights
  (as MMRazor's ``LSQEpochBasedLoop``).

Training is runner-free: SGD (lr ``--lr``, momentum 0.9) over ``algo.parameters()`` on
``algo(inputs, data_samples, 'loss')``, batch 128 with the config's augmentation, on
the first ``--train-images`` training images. Test accuracy (all 10k test images) of
each model's fake-quant graph and of its torch int8 model (``get_int8_model``; 4-bit
weights run on the int8 kernels, their values on the 4-bit grid).

    python benchmarks/quantization_qat.py [--w-bits 8 4] [--train-images 10000] [--quick]
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
import warnings
from typing import Callable, Dict, List, Sequence

# passive OpenMP threads: spinning ones make training on a shared, loaded machine
# several times slower (quantization_ptq.py lets them spin briefly, for batch-1 latency;
# training ops are large enough not to notice the wake-ups)
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from quantization_ptq import (  # noqa: E402
    ROOT,
    TensorMode,
    accuracy,
    build_quant,
    calibrate,
    fashion_cfg,
    fashion_loader,
    global_qconfig,
    preprocessed_test_set,
    torch_runner,
    train_float,
)


def train(algo: nn.Module, loader, epochs: int, lr: float,
          before_iter: Callable[[int], None] = lambda index: None) -> List[float]:
    """SGD on the ``'loss'`` graph; the mean loss of each epoch."""
    optimizer = torch.optim.SGD(algo.parameters(), lr=lr, momentum=0.9)
    means = []
    for _ in range(epochs):
        algo.train()
        total, count = 0.0, 0
        for data in loader:
            before_iter(count)
            data = algo.data_preprocessor(data, True)
            loss, _ = algo.parse_losses(algo(data['inputs'], data['data_samples'], 'loss'))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, count = total + loss.item(), count + 1
        means.append(total / max(1, count))
    return means


def lsq_schedule(algo: nn.Module, freeze_bn: bool = False) -> Callable[[int], None]:
    """The first batch estimates the step sizes, the next ones learn them; with
    ``freeze_bn`` the conv-BN layers keep their running statistics from the start
    (MMRazor's LSQ configs: ``freeze_bn_begin=1``)."""
    from mmrazor.models.fake_quants.lsq import enable_param_learning, enable_static_estimate
    from mmrazor.models.quantizers import freeze_bn_stats

    def before_iter(index: int) -> None:
        algo.apply(enable_static_estimate if index == 0 else enable_param_learning)
        if freeze_bn and index == 0:
            algo.apply(freeze_bn_stats)
    return before_iter


def evaluate(algo: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> Dict:
    """Test top-1 of the fake-quant graph and of the torch int8 model."""
    from mmrazor.models.fake_quants.lsq import enable_val
    algo.apply(enable_val)  # LSQ: fixed step sizes; a no-op for FakeQuantize
    result = dict(fake_quant=accuracy(torch_runner(algo.get_deploy_model()), images,
                                      labels)[0])
    try:
        result['torch_int8'] = accuracy(torch_runner(algo.get_int8_model()), images,
                                        labels)[0]
    except Exception as error:  # noqa: BLE001 - recorded in the table and the JSON
        result['torch_int8_error'] = f'{type(error).__name__}: {error}'
    return result


def run_method(method: str, w_bits: int, cfg, ckpt: str, calib_batches: Sequence[Dict],
               train_loader, images: torch.Tensor, labels: torch.Tensor,
               args: argparse.Namespace) -> Dict:
    """Quantize the float model with ``method`` (ptq / qat / lsq) at ``w_bits``."""
    torch.manual_seed(0)
    modes = ('tensor', ) if method == 'ptq' else ('tensor', 'loss')
    algo = build_quant(cfg.model, global_qconfig(w_bits, lsq=method == 'lsq'), (1, 1, 28, 28),
                       ckpt, modes)
    start = time.time()
    losses: List[float] = []
    if method in ('ptq', 'qat'):
        calibrate(algo, calib_batches)
    if method == 'qat':
        from torch.ao.quantization import enable_fake_quant, enable_observer
        algo.apply(enable_observer)
        algo.apply(enable_fake_quant)
        losses = train(algo, train_loader, args.epochs, args.lr)
    elif method == 'lsq':
        losses = train(algo, train_loader, args.epochs, args.lr,
                       lsq_schedule(algo, args.freeze_bn))
    elapsed = time.time() - start
    algo.eval()
    return dict(method=method, w_bits=w_bits, seconds=elapsed, train_loss=losses,
                **evaluate(algo, images, labels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--float-epochs', type=int, default=2,
                        help="the float model's epochs (its checkpoint is shared with "
                        'quantization_ptq.py)')
    parser.add_argument('--w-bits', type=int, nargs='+', default=[8, 4])
    parser.add_argument('--methods', nargs='+', default=['ptq', 'qat', 'lsq'],
                        choices=['ptq', 'qat', 'lsq'])
    parser.add_argument('--epochs', type=int, default=1, help='QAT / LSQ epochs')
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--freeze-bn', action='store_true',
                        help='LSQ: conv-BN layers use running statistics from the start')
    parser.add_argument('--train-images', type=int, default=10000,
                        help='QAT / LSQ train on the first N training images')
    parser.add_argument('--calib-batches', type=int, default=32, help='of 32 train images')
    parser.add_argument('--test-images', type=int, default=None, help='default: all 10k')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--work-dir',
                        default=osp.join(ROOT, 'work_dirs/quantization_fashion_mnist'))
    parser.add_argument('--quick', action='store_true',
                        help="a smoke test on quantization_ptq.py --quick's float model: 256 "
                        'training images, 2 calibration batches, 1000 test images')
    parser.add_argument('--out', default=osp.join(osp.dirname(__file__), 'quantization_qat.json'))
    args = parser.parse_args()
    float_images = None
    if args.quick:
        args.float_epochs, float_images = 1, 2048
        args.train_images, args.calib_batches, args.test_images = 256, 2, 1000
        args.work_dir = osp.join(args.work_dir, 'quick')
    warnings.filterwarnings('ignore')
    from mmengine.runner import load_checkpoint

    from mmrazor.utils import build_model_from_config, register_all_modules
    register_all_modules(init_default_scope=False)
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    cfg = fashion_cfg()
    ckpt = train_float(osp.join(args.work_dir, 'float'), args.float_epochs, float_images)
    float_model = build_model_from_config(cfg).eval()
    load_checkpoint(float_model, ckpt, map_location='cpu', logger='silent')
    images, labels = preprocessed_test_set(cfg, float_model.data_preprocessor,
                                           args.test_images)
    float_top1 = accuracy(torch_runner(TensorMode(float_model)), images,
                          labels)[0]
    calib_loader = fashion_loader(cfg, 'train', 32, shuffle=True)
    calib_batches = [data for data, _ in zip(calib_loader, range(args.calib_batches))]
    train_loader = fashion_loader(cfg, 'train', 128, shuffle=True, augment=True,
                                  limit=args.train_images)
    rows = []
    for w_bits in args.w_bits:
        for method in args.methods:
            rows.append(run_method(method, w_bits, cfg, ckpt, calib_batches, train_loader,
                                   images, labels, args))
            print(f'{method} w{w_bits}: {rows[-1]}', flush=True)
    print(f'\nFashion-MNIST ResNet-14 w32 ({args.float_epochs} float epochs: {float_top1:.2f} '
          f'%), {len(images)} test images; QAT / LSQ: {args.epochs} epoch(s) on '
          f'{args.train_images} training images, activations 8 bit\n'
          '| weights | method | fake-quant top-1 (%) | torch int8 top-1 (%) | vs PTQ (pt) '
          '| vs float (pt) | time s |\n|---|---|---|---|---|---|---|')
    for row in rows:
        ptq = next(r for r in rows if r['w_bits'] == row['w_bits'] and r['method'] == 'ptq') \
            if 'ptq' in args.methods else None
        int8 = f'{row["torch_int8"]:.2f}' if 'torch_int8' in row else row['torch_int8_error']
        versus = f'{row["fake_quant"] - ptq["fake_quant"]:+.2f}' if ptq else ''
        print(f'| {row["w_bits"]} bit | {row["method"].upper()} | {row["fake_quant"]:.2f} | '
              f'{int8} | {versus} | {row["fake_quant"] - float_top1:+.2f} | '
              f'{row["seconds"]:.0f} |')
    meta = dict(torch=torch.__version__, threads=args.threads, epochs=args.epochs, lr=args.lr,
                train_images=args.train_images, calib_images=32 * args.calib_batches,
                float_epochs=args.float_epochs, checkpoint=ckpt,
                load_average_before=load_before, load_average_after=os.getloadavg(),
                date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))
    with open(args.out, 'w') as file:
        json.dump(dict(meta=meta, float_top1=float_top1, test_images=len(images), rows=rows),
                  file, indent=1)


if __name__ == '__main__':
    main()
