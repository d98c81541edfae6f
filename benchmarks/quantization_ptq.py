"""Post-training int8 quantization: accuracy and CPU latency against NNCF -> OpenVINO.

(a) The Fashion-MNIST ResNet-14 w32 (``--epochs`` of float training, cached in the
work dir) is quantized by ``MMArchitectureQuant`` with ``OpenVINOQuantizer``
(per-channel symmetric qint8 weights, per-tensor affine quint8 activations) after
``--calib-batches`` calibration batches of 32 *training* images (observers on,
fake-quant off, through ``calibrate_step``). Test accuracy (all 10k test images) of:
the float32 model, our fake-quant model, our torch int8 model (``get_int8_model``,
x86 kernels), our QDQ ONNX (``export_onnx``) in onnxruntime and in OpenVINO, and NNCF
3.4's PTQ (its defaults, the same calibration images) run by OpenVINO. NNCF quantizes
the float ONNX (``nncf.quantize`` on an ``onnx.ModelProto``: it works for both models
here). NNCF's usual OpenVINO flow, ``nncf.quantize`` on ``ov.convert_model``'s float
model, is timed beside it. OpenVINO runs everything with ``INFERENCE_PRECISION_HINT
f32``: its default on a CPU with AVX512-BF16 is bf16, under which its CPU plugin fails
to compile NNCF's OpenVINO-IR int8 Fashion-MNIST model ("No suitable implementations").

Latency (median over interleaved rounds, same process, ``--threads`` threads in torch,
onnxruntime and OpenVINO; torch's OpenMP threads spin briefly and onnxruntime's not
at all, see below) at each ``--batches``: eager float32, torch int8, onnxruntime
QDQ, OpenVINO running NNCF's int8 model, OpenVINO running our QDQ ONNX, plus the float
model in onnxruntime and OpenVINO for context; speedup over eager float32 and ratio to
NNCF -> OpenVINO. (b) the same latency table for an mmpretrain ResNet-18 at 224x224
(random weights, calibrated on random images). Where the time goes: the top ops of
torch.profiler on the torch int8 model (and on the float model) at each batch size.

    python benchmarks/quantization_ptq.py [--epochs 2] [--repeats 7] [--quick]
"""
import argparse
import copy
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

# Before torch loads libgomp: by default its threads spin ~300k rounds at every
# barrier, so on a shared 2-core machine they keep the cores from the runtime timed
# next (the float ResNet-14 at batch 1 once took 0.6-1.2 s instead of 6 ms here); with
# OMP_WAIT_POLICY=PASSIVE they sleep at once, and every op of a batch-1 forward pays a
# thread wake-up (Fashion int8 b1: 2.6 ms instead of 0.8). A short spin keeps both.
os.environ.setdefault('GOMP_SPINCOUNT', '10000')

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from pruning_speed import quartiles, time_interleaved  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FLOAT_CFG = 'configs/vanilla/fashion_mnist/resnet14-w32_1xb128_fashion-mnist.py'
SKIPPED_METHODS = ['mmcls.models.heads.ClsHead._get_loss',
                   'mmcls.models.heads.ClsHead._get_predictions']
Runner = Callable[[np.ndarray], np.ndarray]


# --- models and data ----------------------------------------------------------------
def train_float(work_dir: str, epochs: int, train_images: Optional[int] = None) -> str:
    """Train the float Fashion-MNIST model with ``tools/train.py`` unless ``work_dir``
    has its last checkpoint already; return that checkpoint."""
    ckpt = osp.join(work_dir, f'epoch_{epochs}.pth')
    if osp.isfile(ckpt):
        return ckpt
    options = [f'train_cfg.max_epochs={epochs}', f'param_scheduler.1.T_max={epochs}',
               'randomness.seed=0', 'default_hooks.checkpoint.save_best=None',
               'default_hooks.logger.interval=100']
    if train_images:
        options.append(f'train_dataloader.dataset.indices={train_images}')
    subprocess.run([sys.executable, 'tools/train.py', FLOAT_CFG, '--work-dir', work_dir,
                    '--cfg-options'] + options, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return ckpt


def global_qconfig(w_bits: int = 8, lsq: bool = False) -> Dict:
    """MMRazor's OpenVINO qconfig with affine activations; LSQ observers and
    ``LearnableFakeQuantize`` with ``lsq``."""
    fake_quant = dict(type='mmrazor.LearnableFakeQuantize' if lsq else 'mmrazor.FakeQuantize')
    # LSQObserver is a MinMaxObserver: no moving average
    a_qscheme = dict(qdtype='quint8', bit=8, is_symmetry=False)
    if not lsq:
        a_qscheme['averaging_constant'] = 0.1
    return dict(
        w_observer=dict(type='mmrazor.LSQPerChannelObserver' if lsq
                        else 'mmrazor.PerChannelMinMaxObserver'),
        a_observer=dict(type='mmrazor.LSQObserver' if lsq
                        else 'mmrazor.MovingAverageMinMaxObserver'),
        w_fake_quant=fake_quant, a_fake_quant=fake_quant,
        w_qscheme=dict(qdtype='qint8', bit=w_bits, is_symmetry=True, is_symmetric_range=True),
        a_qscheme=a_qscheme)


def build_quant(architecture: Dict, qconfig: Dict, input_shape: Sequence[int],
                checkpoint: Optional[str] = None,
                modes: Sequence[str] = ('tensor', )) -> nn.Module:
    """``MMArchitectureQuant`` with ``OpenVINOQuantizer`` around ``architecture``."""
    from mmrazor.registry import MODELS
    return MODELS.build(dict(
        type='mmrazor.MMArchitectureQuant', architecture=architecture,
        float_checkpoint=checkpoint, input_shapes=tuple(input_shape), forward_modes=modes,
        quantizer=dict(type='mmrazor.OpenVINOQuantizer', global_qconfig=qconfig,
                       tracer=dict(type='mmrazor.CustomTracer',
                                   skipped_methods=SKIPPED_METHODS))))


def fashion_cfg():
    """The float model's config, its data root made absolute."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, FLOAT_CFG))
    for split in ('train_dataloader', 'test_dataloader'):
        cfg[split].dataset.data_root = osp.join(ROOT, 'data/fashion_mnist')
    return cfg


def fashion_loader(cfg, split: str, batch_size: int, shuffle: bool,
                   augment: bool = False, limit: Optional[int] = None):
    """A seeded loader of a Fashion-MNIST split (no augmentation unless ``augment``)."""
    from mmengine.runner import Runner as MMRunner
    loader = copy.deepcopy(cfg[f'{split}_dataloader'])
    if not augment:
        loader.dataset.pipeline = cfg.test_pipeline
    if limit:
        loader.dataset.indices = limit
    loader.update(batch_size=batch_size, num_workers=0, persistent_workers=False,
                  sampler=dict(type='DefaultSampler', shuffle=shuffle, seed=0))
    return MMRunner.build_dataloader(loader, seed=0)


def preprocessed_test_set(cfg, preprocessor: nn.Module,
                          limit: Optional[int] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """The test images as the model sees them (normalised) and their labels."""
    images, labels = [], []
    for data in fashion_loader(cfg, 'test', 500, shuffle=False, limit=limit):
        data = preprocessor(data, False)
        images.append(data['inputs'])
        labels.append(torch.cat([s.gt_label for s in data['data_samples']]))
    return torch.cat(images), torch.cat(labels)


def calibrate(algo: nn.Module, batches: Sequence[Dict]) -> List[torch.Tensor]:
    """PTQ calibration of ``algo``; returns the preprocessed calibration images, for the
    baselines to calibrate on."""
    seen = []

    def step(data: Dict) -> None:
        algo.calibrate_step(data)
        seen.append(algo.data_preprocessor(data, False)['inputs'])

    observe_then_fake_quantize(algo, step, batches)
    return seen


def observe_then_fake_quantize(model: nn.Module, step: Callable[[Any], Any],
                               batches: Sequence) -> None:
    """PTQ: observers on and fake-quant off while ``step`` runs each batch, then the
    reverse."""
    from mmrazor.engine.runner.quantization_loops import freeze_qparams, observe_qparams
    model.eval()
    observe_qparams(model)
    with torch.no_grad():
        for batch in batches:
            step(batch)
    freeze_qparams(model)


class TensorMode(nn.Module):
    """An OpenMMLab model as ``inputs -> logits`` (``mode='tensor'``)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.model(inputs, mode='tensor')


# --- runtimes -----------------------------------------------------------------------
def torch_runner(model: nn.Module) -> Runner:
    def run(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy()
    return run


def export_float_onnx(model: nn.Module, example: torch.Tensor, path: str) -> str:
    """The float model as ONNX with a dynamic batch (what NNCF quantizes)."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter('ignore')
        torch.onnx.export(TensorMode(model).eval(), (example, ), path, input_names=['inputs'],
                          opset_version=18, dynamo=True, external_data=False, verbose=False,
                          dynamic_shapes={'inputs': {0: torch.export.Dim('batch', min=1)}})
    return path


def nncf_quantize_onnx(float_onnx: str, calib: Sequence[torch.Tensor], path: str) -> str:
    """NNCF PTQ (its defaults) of a float ONNX file on the calibration batches."""
    import nncf
    import onnx
    dataset = nncf.Dataset(list(calib), lambda x: {'inputs': x.numpy()})
    quantized = nncf.quantize(onnx.load(float_onnx), dataset, subset_size=len(calib))
    onnx.save(quantized, path)
    return path


def nncf_quantize_ir(float_model: nn.Module, example: torch.Tensor,
                     calib: Sequence[torch.Tensor]):
    """NNCF PTQ (its defaults) of the OpenVINO model ``ov.convert_model`` makes."""
    import nncf
    import openvino as ov
    model = ov.convert_model(TensorMode(float_model).eval(), example_input=example)
    dataset = nncf.Dataset(list(calib), lambda x: x.numpy())
    return nncf.quantize(model, dataset, subset_size=len(calib))


def torch_ao_int8(algo: nn.Module, float_model: nn.Module, calib: Sequence[torch.Tensor],
                  example: torch.Tensor) -> nn.Module:
    """torch's own ``quantize_fx`` of the float model: ``prepare_fx`` with our qconfig and
    backend config (``quantizer.backend_config``), the same calibration, ``convert_fx``."""
    from torch.ao.quantization import QConfigMapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    quantizer = algo.quantizer
    graph = quantizer.trace(copy.deepcopy(float_model), {'inputs': example, 'data_samples': None},
                            {'mode': 'tensor'})
    mapping = QConfigMapping().set_global(quantizer.qconfig.convert())
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # torch.ao.quantization's deprecation notices
        prepared = prepare_fx(graph, mapping, (example, ),
                              backend_config=quantizer.backend_config)
        observe_then_fake_quantize(prepared, prepared, calib)
        return convert_fx(prepared, backend_config=quantizer.backend_config).eval()


def ort_runner(path: str, threads: int) -> Runner:
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # its threads would otherwise spin after each run, taking the cores from the
    # runtime timed next (the runtimes are interleaved on a 2-core machine)
    options.add_session_config_entry('session.intra_op.allow_spinning', '0')
    session = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
    return lambda x: session.run(None, {'inputs': x})[0]


def openvino_runner(path, threads: int) -> Runner:
    """OpenVINO on the CPU running ``path`` (a file or an ``ov.Model``)."""
    import openvino as ov
    # f32 for what stays float: OpenVINO would pick bf16 on a CPU that has it
    compiled = ov.Core().compile_model(path, 'CPU', {
        'INFERENCE_NUM_THREADS': threads, 'NUM_STREAMS': 1, 'PERFORMANCE_HINT': 'LATENCY',
        'INFERENCE_PRECISION_HINT': 'f32'})
    request = compiled.create_infer_request()
    return lambda x: request.infer({0: x})[0]


def openvino_precisions(path, threads: int) -> Dict[str, int]:
    """How many executed layers run in each precision (``u8 Convolution``: 3)."""
    import openvino as ov
    compiled = ov.Core().compile_model(path, 'CPU', {'INFERENCE_NUM_THREADS': threads,
                                                     'INFERENCE_PRECISION_HINT': 'f32'})
    counts: Dict[str, int] = {}
    for op in compiled.get_runtime_model().get_ops():
        info = op.get_rt_info()
        kind = info['layerType'].astype(str)
        if kind in ('Convolution', 'FullyConnected', 'MatMul', 'Eltwise', 'Pooling'):
            key = f'{info["runtimePrecision"].astype(str)} {kind}'
            counts[key] = counts.get(key, 0) + 1
    return counts


def accuracy(run: Runner, images: torch.Tensor, labels: torch.Tensor,
             batch: int = 500) -> Tuple[float, np.ndarray]:
    """Top-1 (%) and the logits of ``run`` over ``images``."""
    logits = np.concatenate([run(images[i:i + batch].numpy())
                             for i in range(0, len(images), batch)])
    return float((logits.argmax(1) == labels.numpy()).mean() * 100), logits


def latency_table(runners: Dict[str, Runner], shape: Sequence[int], batches: Sequence[int],
                  repeats: int, calls: int, settle: int = 1) -> List[Dict]:
    """Median latency of each runner at each batch size, interleaved; speedup over
    ``float32 eager`` and ratio to ``NNCF -> OpenVINO int8``."""
    rows = []
    for batch in batches:
        x = np.random.default_rng(0).standard_normal((batch, *shape[1:]), dtype=np.float32)
        calls_at = {name: (lambda run=run, x=x: run(x)) for name, run in runners.items()}
        times = time_interleaved(calls_at, repeats, max(1, calls // batch),
                                 warmup=2 if batch > 1 else 5, settle=settle)
        base = statistics.median(times['float32 eager'])
        nncf_ov = statistics.median(times['NNCF -> OpenVINO int8'])
        for name, values in times.items():
            stats = quartiles(values)
            rows.append(dict(runtime=name, batch=batch, latency_ms=stats['median'] * 1e3,
                             iqr_ms=stats['iqr'] * 1e3, speedup=base / stats['median'],
                             ratio_to_nncf=stats['median'] / nncf_ov))
    return rows


def top_ops(model: nn.Module, x: torch.Tensor, k: int, runs: int = 5) -> List[Dict]:
    """The ``k`` ops with the most self CPU time in ``runs`` calls of ``model``."""
    from torch.profiler import ProfilerActivity, profile
    with torch.no_grad():
        model(x)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(runs):
                model(x)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    return [dict(op=e.key, ms_per_call=e.self_cpu_time_total / runs / 1e3,
                 share=e.self_cpu_time_total / total, calls=e.count // runs)
            for e in events[:k]]


# --- the two benchmarks -------------------------------------------------------------
def deploy_runners(algo: nn.Module, float_model: nn.Module, calib: Sequence[torch.Tensor],
                   shape: Sequence[int], directory: str,
                   threads: int) -> Tuple[Dict[str, Runner], Dict[str, nn.Module], Dict]:
    """Every runtime of the float and the calibrated model; the torch models; notes."""
    example = torch.zeros(1, *shape[1:])
    float_onnx = export_float_onnx(float_model, example, osp.join(directory, 'float.onnx'))
    start = time.time()
    nncf_onnx = nncf_quantize_onnx(float_onnx, calib, osp.join(directory, 'nncf_int8.onnx'))
    nncf_s = time.time() - start
    qdq_onnx = algo.export_onnx(osp.join(directory, 'qdq.onnx'), (1, *shape[1:]))
    fake_quant = algo.get_deploy_model()
    int8 = algo.get_int8_model()
    torch_ao = torch_ao_int8(algo, float_model, calib, example)
    eager = TensorMode(float_model).eval()
    runners = {
        'float32 eager': torch_runner(eager),
        'fake-quant (ours)': torch_runner(fake_quant),
        'torch int8 (ours)': torch_runner(int8),
        'torch.ao quantize_fx int8': torch_runner(torch_ao),
        'onnxruntime QDQ (ours)': ort_runner(qdq_onnx, threads),
        'NNCF -> OpenVINO int8': openvino_runner(nncf_onnx, threads),
        'OpenVINO QDQ (ours)': openvino_runner(qdq_onnx, threads),
        'onnxruntime float32': ort_runner(float_onnx, threads),
        'OpenVINO float32': openvino_runner(float_onnx, threads),
    }
    notes = dict(nncf_quantize_s=nncf_s, openvino_layers={
        'NNCF -> OpenVINO int8': openvino_precisions(nncf_onnx, threads),
        'OpenVINO QDQ (ours)': openvino_precisions(qdq_onnx, threads)})
    try:
        nncf_ir = nncf_quantize_ir(float_model, example, calib)
        runners['NNCF (OpenVINO IR) -> OpenVINO int8'] = openvino_runner(nncf_ir, threads)
    except RuntimeError as error:  # OpenVINO cannot compile it: recorded, not timed
        notes['nncf_openvino_ir_error'] = str(error).strip().splitlines()[-1]
    return runners, dict(eager=eager, int8=int8, torch_ao=torch_ao), notes


def timed_runners(runners: Dict[str, Runner]) -> Dict[str, Runner]:
    # the fake-quant graph is for accuracy, not for speed (it computes in float)
    return {name: run for name, run in runners.items() if name != 'fake-quant (ours)'}


def profile_rows(models: Dict[str, nn.Module], shape: Sequence[int],
                 batches: Sequence[int], k: int) -> Dict[str, List[Dict]]:
    return {f'{name} b{batch}': top_ops(model, torch.zeros(batch, *shape[1:]), k)
            for batch in batches for name, model in models.items()}


def fashion_mnist(args: argparse.Namespace, directory: str) -> Dict:
    from mmengine.runner import load_checkpoint

    from mmrazor.utils import build_model_from_config
    cfg = fashion_cfg()
    ckpt = train_float(osp.join(args.work_dir, 'float'), args.epochs, args.train_images)
    shape = (1, 1, 28, 28)
    algo = build_quant(cfg.model, global_qconfig(), shape, ckpt)
    float_model = build_model_from_config(cfg).eval()
    load_checkpoint(float_model, ckpt, map_location='cpu', logger='silent')
    loader = fashion_loader(cfg, 'train', 32, shuffle=True)
    batches = [data for data, _ in zip(loader, range(args.calib_batches))]
    start = time.time()
    calib = calibrate(algo, batches)
    calib_s = time.time() - start
    images, labels = preprocessed_test_set(cfg, algo.data_preprocessor, args.test_images)
    runners, models, notes = deploy_runners(algo, float_model, calib, shape, directory,
                                            args.threads)
    accuracies, logits = {}, {}
    for name, run in runners.items():
        accuracies[name], logits[name] = accuracy(run, images, labels)
    reference = logits['fake-quant (ours)'].argmax(1)
    agreement = {name: float((out.argmax(1) == reference).mean() * 100)
                 for name, out in logits.items()}
    latency = latency_table(timed_runners(runners), shape, args.batches, args.repeats,
                            calls=16)
    profiles = profile_rows({'torch int8': models['int8'],
                             'torch.ao quantize_fx': models['torch_ao'],
                             'float32 eager': models['eager']},
                            shape, args.batches, args.top_ops)
    return dict(checkpoint=ckpt, calib_images=sum(len(b) for b in calib), calib_s=calib_s,
                test_images=len(images), accuracy=accuracies,
                top1_agreement_with_fake_quant=agreement, latency=latency,
                profile=profiles, **notes)


def resnet18(args: argparse.Namespace, directory: str) -> Dict:
    from mmengine.config import Config

    from mmrazor.utils import build_model_from_config
    size = args.r18_size
    shape = (1, 3, size, size)
    architecture = dict(
        type='mmpretrain.ImageClassifier',
        backbone=dict(type='mmpretrain.ResNet', depth=18),
        neck=dict(type='mmpretrain.GlobalAveragePooling'),
        head=dict(type='mmpretrain.LinearClsHead', num_classes=1000, in_channels=512),
        data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor',
                               mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                               to_rgb=True))
    torch.manual_seed(0)
    float_model = build_model_from_config(Config(dict(model=architecture))).eval()
    algo = build_quant(copy.deepcopy(architecture), global_qconfig(), shape)
    algo.architecture.load_state_dict(float_model.state_dict())
    generator = torch.Generator().manual_seed(0)
    batches = [dict(inputs=torch.randint(0, 256, (8, 3, size, size), generator=generator,
                                         dtype=torch.uint8), data_samples=None)
               for _ in range(args.r18_calib_batches)]
    calib = calibrate(algo, batches)
    runners, models, notes = deploy_runners(algo, float_model, calib, shape, directory,
                                            args.threads)
    x = calib[0][:2]
    agree = runners['fake-quant (ours)'](x.numpy())
    max_diff = {name: float(np.abs(run(x.numpy()) - agree).max())
                for name, run in runners.items()}
    latency = latency_table(timed_runners(runners), shape, args.batches, args.repeats,
                            calls=8)
    profiles = profile_rows({'torch int8': models['int8'],
                             'torch.ao quantize_fx': models['torch_ao'],
                             'float32 eager': models['eager']},
                            shape, args.batches, args.top_ops)
    return dict(input_shape=list(shape), calib_images=sum(len(b) for b in calib),
                max_abs_diff_to_fake_quant=max_diff, latency=latency, profile=profiles,
                **notes)


# --- output -------------------------------------------------------------------------
def print_latency(title: str, rows: List[Dict]) -> None:
    print(f'\n{title}\n| runtime | batch | ms (median) | IQR ms | speedup vs float32 eager | '
          'latency / NNCF->OpenVINO |\n|---|---|---|---|---|---|')
    for row in rows:
        print(f'| {row["runtime"]} | {row["batch"]} | {row["latency_ms"]:.3f} | '
              f'{row["iqr_ms"]:.3f} | {row["speedup"]:.2f}x | {row["ratio_to_nncf"]:.2f} |')


def print_profile(profiles: Dict[str, List[Dict]]) -> None:
    for name, ops in profiles.items():
        print(f'  {name}: ' + '; '.join(
            f'{op["op"]} {op["ms_per_call"]:.3f} ms ({op["share"] * 100:.0f} %, '
            f'{op["calls"]} calls)' for op in ops))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--epochs', type=int, default=2, help='float training epochs')
    parser.add_argument('--train-images', type=int, default=None,
                        help='train the float model on the first N images (default: all)')
    parser.add_argument('--calib-batches', type=int, default=32, help='of 32 train images')
    parser.add_argument('--test-images', type=int, default=None, help='default: all 10k')
    parser.add_argument('--batches', type=int, nargs='+', default=[1, 32])
    parser.add_argument('--repeats', type=int, default=7)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--top-ops', type=int, default=5)
    parser.add_argument('--r18-size', type=int, default=224)
    parser.add_argument('--r18-calib-batches', type=int, default=4, help='of 8 random images')
    parser.add_argument('--skip-resnet18', action='store_true')
    parser.add_argument('--work-dir',
                        default=osp.join(ROOT, 'work_dirs/quantization_fashion_mnist'))
    parser.add_argument('--quick', action='store_true',
                        help='a smoke test: 1 epoch on 2048 images, 4 calibration batches, '
                        '1000 test images, batch 1, 3 repeats, ResNet-18 at 64x64')
    parser.add_argument('--out', default=osp.join(osp.dirname(__file__), 'quantization_ptq.json'))
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.train_images, args.calib_batches = 1, 2048, 4
        args.test_images, args.batches, args.repeats = 1000, [1], 3
        args.r18_size, args.r18_calib_batches = 64, 2
        args.work_dir = osp.join(args.work_dir, 'quick')
    warnings.filterwarnings('ignore')
    from mmrazor.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    result: Dict = {}
    with tempfile.TemporaryDirectory() as directory:
        result['fashion_mnist'] = fashion_mnist(args, directory)
        if not args.skip_resnet18:
            result['resnet18'] = resnet18(args, directory)
    fashion = result['fashion_mnist']
    print(f'\nFashion-MNIST ResNet-14 w32, {args.epochs} float epochs; '
          f'{fashion["calib_images"]} calibration images from the training set; '
          f'{fashion["test_images"]} test images\n| model | test top-1 (%) | '
          'top-1 agreement with our fake-quant (%) |\n|---|---|---|')
    for name, acc in fashion['accuracy'].items():
        print(f'| {name} | {acc:.2f} | {fashion["top1_agreement_with_fake_quant"][name]:.2f} |')
    print_latency(f'Fashion-MNIST ResNet-14 w32 (1x28x28), {args.threads} threads',
                  fashion['latency'])
    print('where the time goes (torch.profiler, self CPU time per call):')
    print_profile(fashion['profile'])
    print(f'OpenVINO layers by precision: {fashion["openvino_layers"]}')
    if 'resnet18' in result:
        r18 = result['resnet18']
        print_latency(f'mmpretrain ResNet-18 (3x{args.r18_size}x{args.r18_size}, random '
                      f'weights), {args.threads} threads', r18['latency'])
        print('where the time goes (torch.profiler, self CPU time per call):')
        print_profile(r18['profile'])
        print(f'OpenVINO layers by precision: {r18["openvino_layers"]}')
        print('max |output - our fake-quant output|: ' + ', '.join(
            f'{k} {v:.3g}' for k, v in r18['max_abs_diff_to_fake_quant'].items()))
    import nncf
    import onnxruntime
    import openvino
    meta = dict(torch=torch.__version__, nncf=nncf.__version__,
                openvino=openvino.__version__, onnxruntime=onnxruntime.__version__,
                threads=args.threads, repeats=args.repeats, epochs=args.epochs,
                omp_wait_policy=os.environ.get('OMP_WAIT_POLICY'),
                gomp_spincount=os.environ.get('GOMP_SPINCOUNT'),
                quantized_engine=torch.backends.quantized.engine,
                load_average_before=load_before, load_average_after=os.getloadavg(),
                date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))
    with open(args.out, 'w') as file:
        json.dump(dict(meta=meta, **result), file, indent=1)


if __name__ == '__main__':
    main()
