"""A tiny SPOS supernet on Fashion-MNIST and the runners the NAS loop tests build; run
as a script it performs one evolution search (the killed/resumed search of the resume
test runs in its own process)."""
import os.path as osp
import sys
from typing import Any, Dict, Optional

from mmengine.config import Config
from mmengine.runner import Runner

# the SPOS ShuffleNetV2 space's block: one of four candidate ops
MUTABLE = Config.fromfile(osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))), 'configs', '_base_', 'nas_backbones', 'spos_shufflenet_supernet.py')
)._STAGE_MUTABLE.to_dict()
# 4 blocks x 4 candidates; at 28x28 a subnet has 0.20 to 0.30 MFLOPs (median 0.24)
TINY_FLOPS_BUDGET = 0.24


def tiny_supernet() -> dict:
    """An mmpretrain classifier over a 4-block SPOS ShuffleNetV2 for 28x28 grey input."""
    return dict(
        _scope_='mmpretrain', type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=10,
                               mean=[72.94] * 3, std=[90.02] * 3),
        backbone=dict(_scope_='mmrazor', type='SearchableShuffleNetV2',
                      arch_setting=[[16, 2, MUTABLE], [32, 2, MUTABLE]],
                      with_last_layer=False, out_indices=(1, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=32))


def loader(data_root: str, num: int, batch_size: int = 16, split: str = 'test') -> dict:
    return dict(batch_size=batch_size, num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=False),
                dataset=dict(type='mmrazor.OfflineFashionMNIST', data_root=data_root,
                             split=split, indices=num,
                             pipeline=[dict(type='mmpretrain.PackInputs')]))


def runner_cfg(work_dir: str, data_root: str, train_cfg: dict,
               **extra: Any) -> Config:
    """A runner config for ``SPOS`` over :func:`tiny_supernet`."""
    cfg = dict(
        model=dict(type='mmrazor.SPOS', architecture=tiny_supernet(),
                   mutator=dict(type='mmrazor.NasMutator')),
        work_dir=work_dir, default_scope='mmrazor',
        experiment_name=osp.basename(work_dir.rstrip('/')),
        train_dataloader=loader(data_root, 32), train_cfg=train_cfg,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        randomness=dict(seed=0),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=-1,
                                           save_last=False),
                           logger=dict(type='LoggerHook', interval=1)),
        log_level='WARNING')
    cfg.update(extra)
    return Config(cfg)


def search_cfg(data_root: str, **kwargs: Any) -> Dict[str, Any]:
    """An EvolutionSearchLoop config that scores on 32 test images."""
    cfg = dict(type='mmrazor.EvolutionSearchLoop', dataloader=loader(data_root, 32),
               evaluator=dict(type='mmpretrain.Accuracy'), max_epochs=3,
               max_keep_ckpts=2, num_candidates=6, top_k=3, num_mutation=2, num_crossover=2,
               calibrate_sample_num=16, constraints_range=dict(flops=TINY_FLOPS_BUDGET),
               estimator_cfg=dict(input_shape=(1, 3, 28, 28)))
    cfg.update(kwargs)
    return cfg


def search_runner(work_dir: str, data_root: str, resume_from: Optional[str] = None,
                  **kwargs: Any) -> Runner:
    return Runner.from_cfg(runner_cfg(
        work_dir, data_root, search_cfg(data_root, resume_from=resume_from, **kwargs)))


if __name__ == '__main__':
    # python spos_search_helpers.py WORK_DIR DATA_ROOT MAX_EPOCHS [RESUME_FROM]
    import torch
    torch.set_num_threads(1)
    from mmrazor.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    work_dir, data_root, max_epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    resume = sys.argv[4] if len(sys.argv) > 4 else None
    search_runner(work_dir, data_root, resume_from=resume, max_epochs=max_epochs).train()
