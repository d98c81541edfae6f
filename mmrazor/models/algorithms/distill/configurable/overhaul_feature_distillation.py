"""``OverhaulFeatureDistillation``: OFD (Heo et al., ICCV 2019)."""
from mmrazor.registry import MODELS

from .single_teacher_distill import SingleTeacherDistill


@MODELS.register_module()
class OverhaulFeatureDistillation(SingleTeacherDistill):
    """:class:`SingleTeacherDistill` whose distiller is an ``OFDDistiller``.

    After the teacher (and its checkpoint) is loaded, the margins of the
    ``OFDTeacherConnector`` s are computed from the teacher's BatchNorm statistics, as
    the paper prescribes. Arguments are those of :class:`SingleTeacherDistill`.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not hasattr(self.distiller, 'init_ofd_connectors'):
            raise TypeError('OverhaulFeatureDistillation needs an OFDDistiller, got '
                            f'{type(self.distiller).__name__}')
        self.distiller.init_ofd_connectors(self.teacher)
