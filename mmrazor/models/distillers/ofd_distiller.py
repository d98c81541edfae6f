"""``OFDDistiller``: the distiller of Heo et al., "A Comprehensive Overhaul of Feature
Distillation" (ICCV 2019)."""
import torch
import torch.nn as nn
from torch.distributions import Normal
from torch.nn.modules.batchnorm import _BatchNorm

from mmrazor.models.architectures.connectors import OFDTeacherConnector
from mmrazor.registry import MODELS
from mmrazor.utils.lookup import NameLookupError, closest_names, get_module

from .configurable_distiller import ConfigurableDistiller


def ofd_margin(bn: _BatchNorm) -> torch.Tensor:
    """The per-channel OFD margin of the pre-ReLU feature a BN outputs.

    Each channel is taken as Gaussian with mean ``bias`` and std ``|weight|``; its
    margin is the mean of its negative part, ``E[x | x < 0] = m - s * pdf(m / s) /
    cdf(-m / s)``, or ``-3 s`` where ``cdf(-m / s) <= 0.001`` (as in the paper).

    Args:
        bn (_BatchNorm): An affine BN.

    Returns:
        torch.Tensor: The margins, shape (C, ), on the BN's device and dtype.
    """
    std = bn.weight.detach().double().abs()
    mean = bn.bias.detach().double()
    normal = Normal(torch.zeros_like(mean), torch.ones_like(mean))
    alpha = -mean / std
    cdf = normal.cdf(alpha)
    expected = mean - std * normal.log_prob(alpha).exp() / cdf
    margin = torch.where(cdf > 1e-3, expected, -3 * std)
    return margin.to(bn.weight.dtype)


@MODELS.register_module()
class OFDDistiller(ConfigurableDistiller):
    """A :class:`ConfigurableDistiller` whose :class:`OFDTeacherConnector` margins
    come from the teacher's BNs.

    A teacher-side mapping (``from_student=False``) through an
    ``OFDTeacherConnector`` must name a teacher recorder whose ``source`` is the
    affine BN (``BatchNorm2d`` or ``SyncBatchNorm``) that outputs the recorded
    pre-ReLU feature, e.g. ``dict(type='ModuleOutputs', source='backbone.layer1.0.bn2')``.
    The algorithm calls :meth:`init_ofd_connectors` once the teacher is built.

    Args: the same as :class:`ConfigurableDistiller`.
    """

    def init_ofd_connectors(self, teacher: nn.Module) -> None:
        """Set the margin of every ``OFDTeacherConnector`` used on the teacher side.

        Args:
            teacher (nn.Module): The teacher the teacher recorders watch.

        Raises:
            NameLookupError: (a ``KeyError``) If a recorder's source is not a module
                of ``teacher``.
            TypeError: If it is not an affine BN.
        """
        for loss_name, mapping in self.loss_forward_mappings.items():
            for arg, record in mapping.items():
                connector_name = record.get('connector')
                if record['from_student'] or connector_name is None:
                    continue
                connector = self.connectors[connector_name]
                if not isinstance(connector, OFDTeacherConnector):
                    continue
                where = (f'OFDDistiller: loss_forward_mappings[{loss_name!r}][{arg!r}] '
                         f'(connector {connector_name!r}, teacher recorder '
                         f'{record["recorder"]!r})')
                bn = self._find_bn(teacher, record['recorder'], where)
                connector.init_margin(ofd_margin(bn).reshape(1, -1, 1, 1))

    def _find_bn(self, teacher: nn.Module, recorder: str, where: str) -> _BatchNorm:
        """The affine BN that the teacher recorder ``recorder`` records."""
        source = self.teacher_recorders.get_recorder(recorder).source
        bn_names = [name for name, module in teacher.named_modules()
                    if isinstance(module, _BatchNorm)]
        parent = source.rpartition('.')[0]
        siblings = [name for name in bn_names if name.rpartition('.')[0] == parent]
        close = list(dict.fromkeys(siblings + closest_names(source, bn_names)))[:5]
        close = close or bn_names[:5]
        expected = (f'the margin needs the recorder source to be the teacher BN '
                    f'(BatchNorm2d / SyncBatchNorm) that outputs the pre-ReLU '
                    f'feature; BNs of the teacher like it: {close}')
        try:
            module = get_module(teacher, source)
        except KeyError:
            raise NameLookupError(f'{where}: {source!r} is not a module of the '
                                  f'teacher; {expected}') from None
        if not isinstance(module, _BatchNorm) or module.weight is None:
            raise TypeError(f'{where}: {source!r} is a {type(module).__name__}, not an '
                            f'affine BN; {expected}')
        return module
