# The 4 stage outputs of a backbone with out_indices=(0, 1, 2, 3) (e.g. a detector's
# ResNet), recorded as one tuple.
recorders = dict(
    backbone=dict(_scope_='mmrazor', type='ModuleOutputs', source='backbone'))
mappings = dict(
    p3=dict(recorder='backbone', data_idx=0),
    p4=dict(recorder='backbone', data_idx=1),
    p5=dict(recorder='backbone', data_idx=2),
    p6=dict(recorder='backbone', data_idx=3))
