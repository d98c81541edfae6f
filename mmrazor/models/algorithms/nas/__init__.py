"""Neural architecture search algorithms."""
from .spos import SPOS

__all__ = ['SPOS']
from .autoslim import AutoSlim  # noqa: E402
from .bignas import BigNAS  # noqa: E402

__all__ += ['AutoSlim', 'BigNAS']
from .darts import Darts  # noqa: E402
from .dsnas import DSNAS  # noqa: E402

__all__ += ['Darts', 'DSNAS']
from .detnas import DetNAS  # noqa: E402

__all__ += ['DetNAS']
from .autoformer import Autoformer  # noqa: E402

__all__ += ['Autoformer']
