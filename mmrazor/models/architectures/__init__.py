"""Architecture components of mmrazor: backbones, distillation connectors, data-free
generators, dynamic ops and the candidate ops of searchable backbones."""
from .backbones import *  # noqa: F401,F403
from .backbones import __all__ as _backbones_all
from .connectors import *  # noqa: F401,F403
from .connectors import __all__ as _connectors_all
from .dynamic_ops import *  # noqa: F401,F403
from .dynamic_ops import __all__ as _dynamic_ops_all
from .generators import *  # noqa: F401,F403
from .generators import __all__ as _generators_all
from .ops import *  # noqa: F401,F403
from .ops import __all__ as _ops_all

__all__ = (list(_backbones_all) + list(_connectors_all) + list(_generators_all)
           + list(_dynamic_ops_all) + list(_ops_all))
from .heads import *  # noqa: E402,F401,F403
from .heads import __all__ as _heads_all  # noqa: E402

__all__ += list(_heads_all)
from .classifiers import *  # noqa: F401,F403,E402
from .classifiers import __all__ as _classifiers_all  # noqa: E402

__all__ += list(_classifiers_all)
