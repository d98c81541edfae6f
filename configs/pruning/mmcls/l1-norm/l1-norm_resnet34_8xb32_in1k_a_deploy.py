# Deploy the ResNet-34 pruned by l1-norm_resnet34_8xb32_in1k_a.py: the plain model at
# the pruned widths (a static model, no mmrazor ops), for mmdeploy or tools/test.py with
# the checkpoint written by tools/pruning/get_static_model_from_algorithm.py.
# fix_subnet: the {unit: ratio} structure (or the JSON file that tool writes);
# divisor: widths are rounded to multiples of it.
_base_ = ['./l1-norm_resnet34_8xb32_in1k_a.py']

fix_subnet = _base_.target_pruning_ratio
divisor = 8

architecture = _base_.architecture
architecture.pop('init_cfg')  # the pruned checkpoint is loaded instead

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='GroupFisherDeploySubModel',
    architecture=architecture,
    fix_subnet=fix_subnet,
    divisor=divisor,
)
