# SPOS step 2 on the MobileNet space: evolution search of the trained supernet for
# the best subnet under 465 MFLOPs; writes best_fix_subnet.yaml and the subnet's
# weights in the work dir.
_base_ = ['./spos_mobilenet_supernet_8xb128_in1k.py']

model = dict(norm_training=True)

train_cfg = dict(
    _delete_=True,
    type='mmrazor.EvolutionSearchLoop',
    dataloader=_base_.val_dataloader,
    evaluator=_base_.val_evaluator,
    max_epochs=20,
    num_candidates=50,
    top_k=10,
    num_mutation=25,
    num_crossover=25,
    mutate_prob=0.1,
    constraints_range=dict(flops=(0., 465.)),
    score_key='accuracy/top1')
