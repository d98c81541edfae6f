"""BigNAS (and OFA, BigNAS over OFAConv2d) on a small AttentiveMobileNetV3 supernet:
in a real Runner each step runs the max, min and random subnets, trains the max one
on the labels and the others by in-place distillation from it, and steps the
optimizer once; drop path applies to the max subnet only; two gloo processes train
the same subnets (and AutoSlim widths) and end with the same weights."""
import inspect
import random
from typing import Dict, List

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from mmpretrain.structures import DataSample

from mmrazor.models import BigNAS, MBBlock
from mmrazor.registry import MODEL_WRAPPERS, MODELS
from mmrazor.structures import export_fix_subnet

from ..test_architectures.test_attentive_mobilenet_v3 import tiny_backbone
from ..test_architectures.test_searchable_shufflenet import one_thread  # noqa: F401


def supernet(**backbone) -> dict:
    return dict(
        _scope_='mmrazor', type='SearchableImageClassifier',
        # Fashion-MNIST's grey channel broadcasts to the stem's three input channels
        data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor', num_classes=10,
                               mean=[72.94] * 3, std=[90.02] * 3),
        backbone=tiny_backbone(**backbone), neck=dict(type='mmpretrain.GlobalAveragePooling'),
        head=dict(type='DynamicLinearClsHead', num_classes=10, in_channels=96,
                  loss=dict(type='mmpretrain.CrossEntropyLoss'), topk=(1, )),
        input_resizer_cfg=dict(input_sizes=[[24, 24], [32, 32]]),
        connect_head=dict(connect_with_backbone='backbone.last_mutable_channels'))


DISTILLER = dict(
    type='ConfigurableDistiller',
    teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
    student_recorders=dict(fc=dict(type='ModuleOutputs', source='head.fc')),
    distill_losses=dict(loss_kl=dict(type='KLDivergence', tau=1, loss_weight=1)),
    loss_forward_mappings=dict(loss_kl=dict(
        preds_S=dict(recorder='fc', from_student=True),
        preds_T=dict(recorder='fc', from_student=False))))


def bignas_cfg(**kwargs) -> dict:
    cfg = dict(_scope_='mmrazor', type='BigNAS', architecture=supernet(),
               distiller=DISTILLER, mutator=dict(type='mmrazor.NasMutator'),
               backbone_dropout_stages=[3, 4])
    cfg.update(kwargs)
    return cfg


def bignas(**kwargs) -> BigNAS:
    torch.manual_seed(0)
    return MODELS.build(bignas_cfg(**kwargs))


def batch(n: int = 4, seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    return dict(inputs=[torch.randint(0, 256, (1, 28, 28), dtype=torch.uint8,
                                      generator=generator) for _ in range(n)],
                data_samples=[DataSample().set_gt_label(i % 10) for i in range(n)])


class SubnetRecorder(Hook):
    """Records the subnet of every backbone forward and the optimizer steps."""

    def __init__(self) -> None:
        self.subnets: List[Dict] = []
        self.steps = 0

    def before_train(self, runner) -> None:
        model = runner.model
        model.architecture.backbone.register_forward_pre_hook(
            lambda *_: self.subnets.append(model.mutator.current_choices))
        runner.optim_wrapper.optimizer.register_step_post_hook(self._count)
        self.initial = {k: v.clone() for k, v in model.state_dict().items()}

    def _count(self, *_) -> None:
        self.steps += 1


def test_runner_steps_train_the_sandwich_with_in_place_distillation(tmp_path,
                                                                     fashion_mnist_root):
    data = dict(batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler',
                                                         shuffle=False),
                dataset=dict(type='mmrazor.OfflineFashionMNIST', data_root=fashion_mnist_root,
                             split='test', indices=8,
                             pipeline=[dict(type='mmpretrain.PackInputs')]))
    runner = Runner.from_cfg(Config(dict(
        model=bignas_cfg(), work_dir=str(tmp_path), default_scope='mmrazor',
        experiment_name='bignas_sandwich', train_dataloader=data,
        train_cfg=dict(by_epoch=False, max_iters=2),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        randomness=dict(seed=0),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=-1,
                                           save_last=False)))))
    recorder = SubnetRecorder()
    runner.register_hook(recorder)
    runner.train()
    model = runner.model
    mutator = model.mutator
    assert len(recorder.subnets) == 8 and recorder.steps == 2  # 4 forwards, 1 step each
    for step in range(2):
        sandwich = recorder.subnets[4 * step:4 * step + 4]
        assert sandwich[0] == mutator.max_choices and sandwich[1] == mutator.min_choices
        assert all(s not in (mutator.max_choices, mutator.min_choices) for s in sandwich[2:])
    scalars = runner.message_hub.log_scalars
    assert {'train/max_subnet.loss', 'train/min_subnet.loss_kl',
            'train/random0_subnet.loss_kl', 'train/random1_subnet.loss_kl'} <= set(scalars)
    assert not any(key.startswith('train/min_subnet.loss_cls') for key in scalars)
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, recorder.initial[k])}
    assert {'architecture.backbone.first_conv.conv.weight',
            'architecture.head.fc.weight'} <= changed
    assert mutator.current_choices == mutator.max_choices  # left at the max subnet
    # the step's records (with their graphs) are dropped: the max subnet exports
    _, static = export_fix_subnet(model, slice_weight=True)
    inputs = torch.rand(2, 3, 28, 28)
    model.eval(), static.eval()
    with torch.no_grad():
        assert torch.allclose(static(inputs, mode='tensor'),
                              model(inputs, mode='tensor'), atol=1e-5)


def test_the_smaller_subnets_learn_the_max_subnets_outputs():
    model = bignas(drop_path_rate=0.)
    data = batch()
    # lr 0: the step computes and logs its losses but leaves the weights as they are
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.))
    log_vars = model.train_step(data, wrapper)
    processed = model.data_preprocessor(data, True)
    model.set_subnet('max')
    teacher = model.architecture(**processed, mode='tensor')
    labels = torch.tensor([i % 10 for i in range(4)])
    assert torch.allclose(log_vars['max_subnet.loss'], F.cross_entropy(teacher, labels),
                          atol=1e-5)
    model.set_subnet('min')
    student = model.architecture(**processed, mode='tensor')
    expected = F.kl_div(F.log_softmax(student, 1), F.softmax(teacher, 1),
                        reduction='batchmean')
    assert torch.allclose(log_vars['min_subnet.loss_kl'], expected, atol=1e-5)
    assert not torch.allclose(teacher, student)


def test_drop_path_applies_to_the_max_subnet_of_the_dropout_stages():
    model = bignas(drop_path_rate=0.2, backbone_dropout_stages=[3, 4])
    backbone = model.architecture.backbone
    rates = {i: [block.drop_path_rate for block in getattr(backbone, f'layer{i}')]
             for i in range(1, 5)}
    assert rates[1] == [0., 0.] and rates[2] == [0., 0.]  # not a dropout stage
    model._before_subnet('max')
    rates = {i: [block.drop_path_rate for block in getattr(backbone, f'layer{i}')]
             for i in range(1, 5)}
    # 9 blocks, rates grow with the position: blocks 5-7 of stage 3, 8-9 of stage 4
    assert rates[3] == pytest.approx([0.2 * 5 / 9, 0.2 * 6 / 9, 0.2 * 7 / 9])
    assert rates[4] == pytest.approx([0.2 * 8 / 9, 0.2])
    model._before_subnet('min')
    assert all(b.drop_path_rate == 0 for b in backbone.modules() if isinstance(b, MBBlock))


def test_mmrazor_signature_and_bad_arguments():
    params = inspect.signature(BigNAS).parameters
    assert list(params) == ['architecture', 'mutator', 'distiller', 'data_preprocessor',
                            'num_random_samples', 'drop_path_rate',
                            'backbone_dropout_stages', 'init_cfg']
    assert params['backbone_dropout_stages'].default == [6, 7]
    model = bignas(backbone_dropout_stages=[4])
    assert model.num_random_samples == 2 and model.drop_path_rate == 0.2
    assert model.sample_kinds == ['max', 'min', 'random0', 'random1']
    assert MODEL_WRAPPERS.get('BigNASDDP') is MODEL_WRAPPERS.get('AlgorithmDDP')
    with pytest.raises(ValueError, match=r'backbone_dropout_stages \[6, 7\] name no stage: '
                       'the backbone has 4'):
        bignas(backbone_dropout_stages=[6, 7])
    assert len(bignas(backbone_dropout_stages=[4, 5])._drop_path_rates) == 2  # 5: ignored
    with pytest.raises(TypeError, match='BigNAS needs a mutator of type NasMutator .* got '
                       'OneShotChannelMutator'):
        bignas(mutator=dict(type='mmrazor.OneShotChannelMutator'))
    with pytest.raises(TypeError, match='BigNAS needs a distiller'):
        bignas(distiller=None)
    with pytest.raises(ValueError, match='num_random_samples must be an int >= 0'):
        bignas(num_random_samples=-1)


# ---- two gloo processes -------------------------------------------------------------


def _ddp_worker(rank: int, port: int, out_dir: str) -> None:
    import torch.distributed as dist
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=2)
    try:
        model = bignas()  # same seed: the same weights on both ranks
        random.seed(rank)  # but each rank's own draws would give other subnets
        subnets = []
        model.architecture.backbone.register_forward_pre_hook(
            lambda *_: subnets.append(model.mutator.current_choices))
        ddp = MODEL_WRAPPERS.build(dict(type='mmrazor.BigNASDDP', module=model,
                                        broadcast_buffers=False,
                                        find_unused_parameters=True))
        wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
        for step in range(2):
            ddp.train_step(batch(seed=10 * rank + step), wrapper)  # per-rank data
        # AutoSlim shares the sandwich step: its random widths are rank 0's too
        from .test_autoslim import autoslim, kept_channels
        slim = autoslim()
        widths = []
        slim.architecture.backbone.register_forward_pre_hook(
            lambda *_: widths.append(kept_channels(slim)))
        slim_ddp = MODEL_WRAPPERS.build(dict(type='mmrazor.AutoSlimDDP', module=slim,
                                             broadcast_buffers=False))
        slim_ddp.train_step(batch(seed=rank), OptimWrapper(
            torch.optim.SGD(slim.parameters(), lr=0.1), accumulative_counts=4))
        torch.save(dict(subnets=subnets, widths=widths, params=torch.cat(
            [p.detach().flatten() for m in (model, slim) for p in m.parameters()])),
            f'{out_dir}/{rank}.pth')
    finally:
        dist.destroy_process_group()


def test_two_processes_train_the_same_subnets_and_weights(tmp_path):
    """BigNAS, then AutoSlim, in the same two processes."""
    import socket

    import torch.multiprocessing as mp
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    mp.spawn(_ddp_worker, args=(port, str(tmp_path)), nprocs=2)
    first, second = (torch.load(tmp_path / f'{rank}.pth', weights_only=True)
                     for rank in range(2))
    assert len(first['subnets']) == 8
    assert first['subnets'] == second['subnets']  # rank 0's random subnets, broadcast
    assert first['subnets'][2] != first['subnets'][6]
    assert len(first['widths']) == 4 and first['widths'] == second['widths']
    assert torch.equal(first['params'], second['params'])  # gradients averaged
