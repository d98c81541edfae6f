# DetNAS pre-trains its backbone supernet on ImageNet exactly as SPOS does.
_base_ = 'mmrazor::nas/mmcls/spos/spos_shufflenet_supernet_8xb128_in1k.py'  # noqa: E501
