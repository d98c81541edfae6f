"""Dynamic conv, linear and norm layers."""
from .dynamic_conv import DynamicConv2d, DynamicConv2dAdaptivePadding, DynamicConvMixin
from .dynamic_linear import DynamicLinear, DynamicLinearMixin
from .dynamic_norm import (
                           DynamicBatchNorm1d,
                           DynamicBatchNorm2d,
                           DynamicBatchNorm3d,
                           DynamicBatchNormMixin,
                           DynamicBatchNormXd,
                           DynamicGroupNorm,
                           DynamicLayerNorm,
                           DynamicSyncBatchNorm,
                           SwitchableBatchNorm2d,
)

__all__ = ['DynamicConv2d', 'DynamicConv2dAdaptivePadding', 'DynamicConvMixin',
           'DynamicLinear', 'DynamicLinearMixin', 'DynamicBatchNorm1d', 'DynamicBatchNorm2d',
           'DynamicBatchNorm3d', 'DynamicBatchNormMixin', 'DynamicBatchNormXd',
           'DynamicGroupNorm', 'DynamicLayerNorm', 'DynamicSyncBatchNorm',
           'SwitchableBatchNorm2d']
from .dmcp_batchnorm import DMCPBatchNorm2d  # noqa: E402
from .dynamic_fuse_conv import FuseConv2d  # noqa: E402

__all__ += ['FuseConv2d', 'DMCPBatchNorm2d']
from .group_fisher_ops import (  # noqa: E402
    GroupFisherConv2d,
    GroupFisherLinear,
    GroupFisherMixin,
)

__all__ += ['GroupFisherConv2d', 'GroupFisherLinear', 'GroupFisherMixin']
from .bignas_conv import BigNasConv2d, BigNasConvMixin, OFAConv2d, OFAConvMixin  # noqa: E402
from .dynamic_head import DynamicLinearClsHead  # noqa: E402
from .dynamic_resizer import DynamicInputResizer  # noqa: E402
from .dynamic_sequential import DynamicSequential  # noqa: E402

__all__ += ['BigNasConv2d', 'BigNasConvMixin', 'OFAConv2d', 'OFAConvMixin',
            'DynamicLinearClsHead', 'DynamicInputResizer', 'DynamicSequential']
from .dynamic_embed import DynamicPatchEmbed  # noqa: E402
from .dynamic_multi_head_attention import DynamicMultiheadAttention  # noqa: E402
from .dynamic_relative_position import DynamicRelativePosition2D  # noqa: E402

__all__ += ['DynamicPatchEmbed', 'DynamicMultiheadAttention', 'DynamicRelativePosition2D']
from .dynamic_torch_attention import DynamicTorchMultiheadAttention  # noqa: E402

__all__ += ['DynamicTorchMultiheadAttention']
from .dynamic_embedding import DynamicEmbedding  # noqa: E402

__all__ += ['DynamicEmbedding']
