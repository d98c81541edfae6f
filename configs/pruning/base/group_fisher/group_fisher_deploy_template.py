#############################################################################
"""Group Fisher, step 3 of 3: deploy. Copy this file and fill in:

_base_ (str): The config of the original (unpruned) model.
fix_subnet (dict | str): The unit widths `{unit_name: width}`, or the path of the
    `fix_subnet.json` the fine-tune run wrote.
divisor (int): Widths are rounded up to multiples of it (the added channels are
    zero, so outputs do not change).

Load the fine-tuned weights as a plain state dict, e.g.
`python tools/test.py THIS_CONFIG FINETUNED_CHECKPOINT`.
"""
_base_ = ''
fix_subnet = {}
divisor = 8
##############################################################################

architecture = _base_.model

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='GroupFisherDeploySubModel',
    architecture=architecture,
    fix_subnet=fix_subnet,
    divisor=divisor,
)
