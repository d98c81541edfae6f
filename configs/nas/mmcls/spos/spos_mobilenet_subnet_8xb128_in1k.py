# SPOS step 3 on the MobileNet space: retrain the searched subnet as a fixed network.
_base_ = ['./spos_mobilenet_supernet_8xb128_in1k.py']

# the shipped subnet; replace it with the best_fix_subnet.yaml your search wrote
fix_subnet = '{{fileDirname}}/SPOS_MOBILENET_SUBNET.yaml'

_base_.model = dict(
    # scoped by name, not by _scope_: the unscoped supernet is built in the default
    # scope (mmpretrain)
    type='mmrazor.sub_model',
    cfg=_base_.supernet,
    fix_subnet=fix_subnet)

find_unused_parameters = False
