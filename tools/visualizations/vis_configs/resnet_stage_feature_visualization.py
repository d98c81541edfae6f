# The outputs of the first 3 stages of a ResNet classifier (mmpretrain ResNet or
# ResNet_CIFAR, e.g. configs/vanilla/fashion_mnist), one recorder per stage.
recorders = dict(
    layer1=dict(_scope_='mmrazor', type='ModuleOutputs', source='backbone.layer1'),
    layer2=dict(_scope_='mmrazor', type='ModuleOutputs', source='backbone.layer2'),
    layer3=dict(_scope_='mmrazor', type='ModuleOutputs', source='backbone.layer3'))
mappings = dict(
    layer1=dict(recorder='layer1'),
    layer2=dict(recorder='layer2'),
    layer3=dict(recorder='layer3'))
