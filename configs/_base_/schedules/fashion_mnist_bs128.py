# SGD with cosine decay; epochs are short on CPU, so the default is 10.
# To train N epochs from the command line, set both (T_max is resolved when loading):
#   --cfg-options train_cfg.max_epochs=N param_scheduler.1.T_max=N
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4,
                   nesterov=True))
max_epochs = 10
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# the learning rate above is for one process with batch 128
auto_scale_lr = dict(base_batch_size=128)
