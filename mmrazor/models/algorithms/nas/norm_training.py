"""``norm_training`` of the NAS algorithms, in one place."""
from torch.nn.modules.batchnorm import _BatchNorm


class NormTrainingMixin:
    """With ``self.norm_training``, the architecture's batch norms stay in training
    mode in eval mode too (MMRazor 1.x's SPOS / AutoSlim / DARTS option)."""

    norm_training: bool

    def train(self, mode: bool = True):
        """Set the mode; with ``norm_training``, batch norms stay in training mode."""
        super().train(mode)
        if self.norm_training and not mode:
            for module in self.architecture.modules():
                if isinstance(module, _BatchNorm):
                    module.training = True
        return self
