"""Distributed training on CPU (gloo) through MMEngine's pytorch launcher.

MMEngine 0.10.7 assumes CUDA whenever it launches with ``--launcher pytorch``: it calls
``torch.cuda.set_device(local_rank)`` before ``init_process_group`` and wraps the model
in DDP with ``device_ids=[local_rank]``. On a machine without a GPU the first raises
"Found no NVIDIA driver" (with torch's CUDA builds) and the second is refused by DDP
for a CPU module. We skip ``set_device`` when CUDA is unavailable and drop
``device_ids`` for CPU modules; on GPU machines both behave exactly as before.

Neither MMEngine's Runner nor its launcher ever calls ``destroy_process_group``. With
gloo, a process that reaches interpreter finalization with the group alive can abort
in C++ ("terminate called without an active exception", SIGABRT; pytorch issues
#190489 and PR #179291) after training has finished, which fails ``torchrun``. A
gloo group initialized through the launcher is therefore destroyed at exit, while the
interpreter is still alive. Destroying a gloo group is local (no collective), so it is
safe after an error on another rank too; NCCL groups are left as MMEngine has them.
Destroying the group was not enough: in full test-suite runs rank 1 of a 2-process gloo
QAT run still aborted that way during interpreter finalization, after its work and its
exit handlers were done. So a tool that finished a gloo run ends with
:func:`finish_distributed_run`: a barrier (every rank is done), the exit handlers (the
group is destroyed, logs are flushed), then ``os._exit`` - the finalization that aborts
is skipped, nothing the run produced is.
"""
import atexit
import functools
import os
import sys

import torch

_applied = False


def allow_cpu_distributed() -> None:
    """Let ``torchrun ... --launcher pytorch`` train on CPU with the gloo backend."""
    global _applied
    if _applied:
        return
    import mmengine.dist.utils as dist_utils
    from mmengine.model.wrappers import MMDistributedDataParallel

    cuda_init = dist_utils._init_dist_pytorch

    @functools.wraps(cuda_init)
    def init_dist_pytorch(backend: str = 'nccl', init_backend: str = 'torch', **kwargs):
        if torch.cuda.is_available() or init_backend != 'torch':
            cuda_init(backend, init_backend=init_backend, **kwargs)
        else:
            torch.distributed.init_process_group(backend=backend, **kwargs)
        atexit.register(destroy_gloo_group)

    dist_utils._init_dist_pytorch = init_dist_pytorch

    ddp_init = MMDistributedDataParallel.__init__

    @functools.wraps(ddp_init)
    def ddp_init_cpu_aware(self, module, detect_anomalous_params=False, **kwargs):
        if all(p.device.type == 'cpu' for p in module.parameters()):
            kwargs['device_ids'] = None
            kwargs['output_device'] = None
        ddp_init(self, module, detect_anomalous_params, **kwargs)

    MMDistributedDataParallel.__init__ = ddp_init_cpu_aware
    _applied = True


def destroy_gloo_group() -> None:
    """Destroy the default process group if it is a live gloo group."""
    dist = torch.distributed
    if dist.is_initialized() and dist.get_backend() == 'gloo':
        dist.destroy_process_group()


def finish_distributed_run() -> None:
    """End a process that completed its work under a launcher-initialized gloo group
    (no-op otherwise): wait for every rank, run the exit handlers, exit with 0 without
    interpreter finalization. Call it last, only on success."""
    dist = torch.distributed
    if not (dist.is_initialized() and dist.get_backend() == 'gloo'):
        return
    dist.barrier()
    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()  # CPython's own exit path: destroys the group, flushes logs
    os._exit(0)
