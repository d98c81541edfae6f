"""Connectors: small modules that adapt recorded features before a distillation loss."""
from .base_connector import BaseConnector
from .byot_connector import BYOTConnector
from .convmodule_connector import ConvModuleConnector
from .crd_connector import CRDConnector
from .factor_transfer_connectors import Paraphraser, Translator
from .fbkd_connector import FBKDStudentConnector, FBKDTeacherConnector
from .mgd_connector import MGDConnector
from .norm_connector import NormConnector
from .ofd_connector import OFDTeacherConnector
from .torch_connector import TorchFunctionalConnector, TorchNNConnector

__all__ = [
    'BaseConnector', 'BYOTConnector', 'ConvModuleConnector', 'CRDConnector',
    'FBKDStudentConnector', 'FBKDTeacherConnector', 'MGDConnector', 'NormConnector',
    'OFDTeacherConnector', 'Paraphraser', 'TorchFunctionalConnector',
    'TorchNNConnector', 'Translator'
]
