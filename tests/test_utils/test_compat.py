"""The stack fixes of mmrazor.utils.compat.

Each upstream-bug test asserts that the bug is still there: when it starts failing,
the upstream package was fixed and the matching shim can be deleted.
"""
import pickle
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import TRANSFORMS as ROOT_TRANSFORMS
from mmengine.runner import CheckpointLoader
from mmengine.runner.checkpoint import load_from_local

from mmrazor.utils.compat import MMCLS_RENAMED, apply_compat_fixes


def _runner_like_checkpoint(path):
    """What an MMEngine Runner writes: weights plus its message hub objects."""
    history = HistoryBuffer()
    history.update(1.0)
    torch.save({'state_dict': {'w': torch.ones(2)},
                'message_hub': {'log_scalars': {'loss': history},
                                'runtime_info': {'best_score': np.float64(0.5),
                                                 'counts': np.arange(3)}}}, path)


def test_upstream_torch_refuses_mmengine_checkpoints(tmp_path):
    path = tmp_path / 'epoch_1.pth'
    _runner_like_checkpoint(path)
    with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
        torch.load(path)
    with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
        load_from_local(str(path), map_location='cpu')  # MMEngine's own local loader


def test_mmengine_loader_reads_runner_checkpoints_weights_only_after_fix(tmp_path):
    apply_compat_fixes()
    path = tmp_path / 'epoch_1.pth'
    _runner_like_checkpoint(path)
    ckpt = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2))
    assert ckpt['message_hub']['log_scalars']['loss'].current() == 1.0
    assert ckpt['message_hub']['runtime_info']['best_score'] == 0.5
    assert ckpt['message_hub']['runtime_info']['counts'].tolist() == [0, 1, 2]
    # anything beyond the Runner's own types is still refused (weights_only=True)
    torch.save({'state_dict': {}, 'meta': {'cls': Config}}, tmp_path / 'other.pth')
    with pytest.raises(pickle.UnpicklingError, match='mmengine.config.config.Config'):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'other.pth'))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'missing.pth'))


def test_mmcls_module_alias_is_mmpretrain():
    import mmcls.models.heads as alias
    import mmpretrain.models.heads as real
    assert alias is real
    assert alias.ClsHead is real.ClsHead
    assert sys.modules['mmpretrain'].__spec__.name == 'mmpretrain'


def test_mmcls_scope_builds_mmpretrain_modules():
    backbone = ROOT_MODELS.build(dict(type='mmcls.ResNet', depth=18))
    assert type(backbone).__module__.startswith('mmpretrain.')
    backbone = ROOT_MODELS.build(dict(_scope_='mmcls', type='ResNet', depth=18))
    assert type(backbone).__name__ == 'ResNet'


@pytest.mark.parametrize('old, new', sorted(MMCLS_RENAMED.items()))
def test_renamed_mmcls_classes(old, new):
    from mmpretrain.registry import MODELS, TRANSFORMS, VISUALIZERS
    registry = {'PackClsInputs': TRANSFORMS, 'ClsVisualizer': VISUALIZERS}[old]
    alias = registry.parent.children['mmcls']
    assert alias.get(old) is registry.get(new)
    assert MODELS.parent.children['mmcls'].get('ImageClassifier') is MODELS.get(
        'ImageClassifier')


def test_mmcls_pack_inputs_transform_builds():
    transform = ROOT_TRANSFORMS.build(dict(type='mmcls.PackClsInputs'))
    assert type(transform).__name__ == 'PackInputs'


def test_mmcls_base_config_loads(tmp_path):
    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text("_base_ = ['mmcls::resnet/resnet18_8xb32_in1k.py']\n")
    cfg = Config.fromfile(str(cfg_file))
    assert cfg.model.backbone.depth == 18
    model = ROOT_MODELS.build(cfg.model)
    assert type(model).__name__ == 'ImageClassifier'


DIST_SCRIPT = """
import os, socket, torch
s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()
os.environ.update(RANK='0', WORLD_SIZE='1', LOCAL_RANK='0', MASTER_ADDR='127.0.0.1',
                  MASTER_PORT=str(port))
{setup}
from mmengine.dist import init_dist
from mmengine.model import MMDistributedDataParallel
init_dist('pytorch', backend='gloo')
model = MMDistributedDataParallel(torch.nn.Linear(2, 2), device_ids=[0])
model(torch.ones(1, 2)).sum().backward()
print('ddp ok', torch.distributed.get_world_size())
"""


def _run_dist(setup: str):
    import subprocess
    return subprocess.run([sys.executable, '-c', DIST_SCRIPT.format(setup=setup)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(torch.cuda.is_available(), reason='the bug needs a machine without CUDA')
def test_upstream_mmengine_pytorch_launcher_needs_cuda():
    proc = _run_dist('')
    assert proc.returncode != 0 and 'NVIDIA driver' in proc.stderr


def test_cpu_distributed_after_fix():
    proc = _run_dist('from mmrazor.utils import apply_compat_fixes; apply_compat_fixes()')
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'ddp ok 1' in proc.stdout


def test_launcher_gloo_group_is_destroyed_at_exit():
    # registered before init_dist, so it runs after mmrazor's handler (atexit is LIFO)
    observe = ('import atexit; atexit.register(lambda: print("alive at exit:", '
               'torch.distributed.is_initialized()))')
    fixed = _run_dist(observe + '\nfrom mmrazor.utils import apply_compat_fixes; '
                      'apply_compat_fixes()')
    assert fixed.returncode == 0, fixed.stderr[-2000:]
    assert 'ddp ok 1' in fixed.stdout and 'alive at exit: False' in fixed.stdout
    # without mmrazor, a torch process group outlives the interpreter's atexit phase
    plain = _run_plain_gloo(observe)
    assert 'alive at exit: True' in plain.stdout, plain.stderr[-2000:]


def test_finish_distributed_run_runs_exit_handlers_then_exits_cleanly():
    setup = ('import atexit; atexit.register(lambda: print("handler ran, group alive:", '
             'torch.distributed.is_initialized(), flush=True))\n'
             'from mmrazor.utils import apply_compat_fixes; apply_compat_fixes()')
    script = DIST_SCRIPT.format(setup=setup) + (
        'from mmrazor.utils.compat import finish_distributed_run\n'
        'finish_distributed_run()\n'
        'print("not reached")\n')
    import subprocess
    proc = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # the work's output, then the exit handlers (the group destroyed before ours ran)
    assert 'ddp ok 1' in proc.stdout and 'handler ran, group alive: False' in proc.stdout
    assert 'not reached' not in proc.stdout


def test_finish_distributed_run_is_a_no_op_without_a_group():
    from mmrazor.utils.compat import finish_distributed_run
    finish_distributed_run()  # returns: nothing to finish, the process goes on


def _run_plain_gloo(setup: str):
    import subprocess
    script = setup + """
import os, socket
s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()
torch.distributed.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                                     rank=0, world_size=1)
"""
    return subprocess.run([sys.executable, '-c', 'import torch\n' + script],
                          capture_output=True, text=True, timeout=120)


def test_upstream_torch_has_no_fake_kernel_for_fake_quant_cachemask():
    from mmrazor.utils.compat import fake_quant_export
    # when this fails, torch has its own kernel: delete compat/fake_quant_export.py
    assert not fake_quant_export.UPSTREAM_HAS_FAKE_KERNEL
    assert fake_quant_export.has_fake_kernel()  # the fix is installed


def test_fake_quant_exports_with_a_dynamic_batch():
    class FakeQuant(torch.nn.Module):
        def forward(self, x):
            return torch.fake_quantize_per_tensor_affine(x, 0.1, 0, 0, 255).flatten(1)

    apply_compat_fixes()
    batch = torch.export.Dim('batch', min=1)
    program = torch.export.export(FakeQuant(), (torch.rand(2, 3), ),
                                  dynamic_shapes={'x': {0: batch}})
    x = torch.rand(5, 3)
    torch.testing.assert_close(program.module()(x), FakeQuant()(x))


def test_upstream_torch_ao_backend_config_needs_an_unimported_submodule():
    script = ('from torch.ao.quantization.backend_config import get_native_backend_config\n'
              'try:\n    get_native_backend_config()\nexcept AttributeError as error:\n'
              '    print("broken:", error)\n')
    # when this fails, torch imports the submodule itself: delete compat/ao_backend_config.py
    assert 'broken:' in _fresh_python(script).stdout
    fixed = _fresh_python('import mmrazor.structures.quantization\n' + script)
    assert fixed.returncode == 0 and 'broken:' not in fixed.stdout, fixed.stderr


def _fresh_python(script: str):
    import subprocess
    return subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                          timeout=120)
