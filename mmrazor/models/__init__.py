"""Models of mmrazor: algorithms and the components they are composed of."""
from .algorithms import *  # noqa: F401,F403
from .architectures import *  # noqa: F401,F403
from .distillers import *  # noqa: F401,F403
from .fake_quants import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .mutables import *  # noqa: F401,F403
from .mutators import *  # noqa: F401,F403
from .observers import *  # noqa: F401,F403
from .quantizers import *  # noqa: F401,F403
from .task_modules import *  # noqa: F401,F403
from .wrappers import *  # noqa: F401,F403
