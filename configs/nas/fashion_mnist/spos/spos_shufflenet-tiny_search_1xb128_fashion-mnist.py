# SPOS step 2 on Fashion-MNIST: evolution search of the trained supernet (load_from)
# under 0.6 MFLOPs (about half the random subnets pass), each subnet scored on the
# 5000 held-out training images after recalibrating its batch norms on 1024 others.
_base_ = ['./spos_shufflenet-tiny_supernet_1xb128_fashion-mnist.py']

search_dataloader = dict(
    batch_size=500,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=_base_.dataset_type,
        data_root=_base_.data_root,
        split='train',
        indices=list(range(55000, 60000)),
        pipeline=_base_.test_pipeline))

train_cfg = dict(
    _delete_=True,
    type='mmrazor.EvolutionSearchLoop',
    dataloader=search_dataloader,
    evaluator=_base_.val_evaluator,
    max_epochs=10,
    num_candidates=20,
    top_k=5,
    num_mutation=8,
    num_crossover=8,
    mutate_prob=0.1,
    crossover_prob=0.5,
    calibrate_sample_num=1024,
    constraints_range=dict(flops=(0., 0.6)),
    estimator_cfg=dict(input_shape=(1, 3, 28, 28)),
    score_key='accuracy/top1')

# the search runs no optimizer steps and saves its own files
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=-1,
                                     save_last=False, save_best=None))
