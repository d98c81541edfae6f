# DetNAS step 3: pre-train the searched backbone (DETNAS_SUBNET.yaml) on ImageNet
# before retraining the detector over it.
_base_ = './detnas_shufflenet_supernet_8xb128_in1k.py'

# the shipped subnet; replace it with the best_fix_subnet.yaml your search wrote
fix_subnet = '{{fileDirname}}/DETNAS_SUBNET.yaml'

_base_.model = dict(
    _scope_='mmrazor',
    type='sub_model',
    cfg=_base_.supernet,
    fix_subnet=fix_subnet)

find_unused_parameters = False
