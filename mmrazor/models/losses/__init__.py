"""Distillation losses (registered in MODELS)."""
from .ab_loss import ABLoss
from .at_loss import ATLoss
from .crd_loss import CRDLoss
from .cross_entropy_loss import CrossEntropyLoss
from .cwd import ChannelWiseDivergence
from .data_free_loss import ActivationLoss, InformationEntropyLoss, OnehotLikeLoss
from .dist_loss import DISTLoss
from .dkd import DKDLoss
from .factor_transfer_loss import FTLoss
from .fbkd_loss import FBKDLoss
from .kd_soft_ce_loss import KDSoftCELoss
from .kl_divergence import KLDivergence
from .l1_loss import L1Loss
from .l2_loss import L2Loss
from .mgd_loss import MGDLoss
from .ofd_loss import OFDLoss
from .pkd_loss import PKDLoss
from .relational_kd import AngleWiseRKD, DistanceWiseRKD
from .weighted_soft_label_distillation import WSLD

__all__ = [
    'ABLoss', 'ATLoss', 'ActivationLoss', 'AngleWiseRKD', 'CRDLoss', 'ChannelWiseDivergence',
    'CrossEntropyLoss', 'DISTLoss', 'DKDLoss', 'DistanceWiseRKD', 'FBKDLoss', 'FTLoss',
    'InformationEntropyLoss', 'KDSoftCELoss', 'KLDivergence', 'L1Loss', 'L2Loss', 'MGDLoss',
    'OFDLoss', 'OnehotLikeLoss', 'PKDLoss', 'WSLD'
]
