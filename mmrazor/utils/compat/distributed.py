"""Distributed training on CPU (gloo) through MMEngine's pytorch launcher.

MMEngine 0.10.7 assumes CUDA whenever it launches with ``--launcher pytorch``: it calls
``torch.cuda.set_device(local_rank)`` before ``init_process_group`` and wraps the model
in DDP with ``device_ids=[local_rank]``. On a machine without a GPU the first raises
"Found no NVIDIA driver" (with torch's CUDA builds) and the second is refused by DDP
for a CPU module. We skip ``set_device`` when CUDA is unavailable and drop
``device_ids`` for CPU modules; on GPU machines both behave exactly as before.
"""
import functools

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
            return cuda_init(backend, init_backend=init_backend, **kwargs)
        torch.distributed.init_process_group(backend=backend, **kwargs)

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
