"""``ContextGroup``: the shared base of ``RecorderManager`` and
``DistillDeliveryManager``: a named group of context managers built from configs."""
import copy
from contextlib import ExitStack
from typing import Any, Dict, Generic, Optional, Tuple, TypeVar

from mmrazor.registry import TASK_UTILS
from mmrazor.utils.lookup import NameLookupError

Member = TypeVar('Member')


class ContextGroup(Generic[Member]):
    """Builds named members from ``TASK_UTILS`` configs and enters / exits them as
    one context.

    A config's ``type`` omits the class suffix (``'ModuleOutputs'`` builds a
    ``ModuleOutputsRecorder``); subclasses set the suffix and the member kind.

    Args:
        cfgs (dict, optional): Name to member config. Defaults to None (empty).
    """

    #: str: The class-name suffix appended to a config's ``type``.
    SUFFIX = ''
    #: str: What a member is, for messages ('recorder', 'delivery').
    KIND = ''
    #: tuple[str], optional: The only ``type`` values allowed; None allows any.
    VALID_TYPES: Optional[Tuple[str, ...]] = None

    def __init__(self, cfgs: Optional[Dict[str, dict]] = None) -> None:
        self._members: Dict[str, Member] = {
            name: self._build(name, cfg) for name, cfg in (cfgs or {}).items()}
        self._exit_stack: Optional[ExitStack] = None

    def _build(self, name: str, cfg: dict) -> Member:
        cfg = copy.deepcopy(dict(cfg))
        member_type = cfg.get('type')
        if self.VALID_TYPES is not None and member_type not in self.VALID_TYPES:
            raise ValueError(f'{self.KIND.capitalize()} {name!r} has type '
                             f'{member_type!r}; the valid types are '
                             f'{list(self.VALID_TYPES)}')
        if isinstance(member_type, str) and not member_type.endswith(self.SUFFIX):
            cfg['type'] = member_type + self.SUFFIX
        return TASK_UTILS.build(cfg)

    def _get(self, name: str) -> Member:
        if name not in self._members:
            raise NameLookupError(f'No {self.KIND} named {name!r}; the {self.KIND} names '
                                  f'are {sorted(self._members)}')
        return self._members[name]

    def __enter__(self) -> 'ContextGroup':
        if self._exit_stack is not None:
            raise RuntimeError(f'This {type(self).__name__} is already entered')
        with ExitStack() as stack:
            for member in self._members.values():
                stack.enter_context(member)
            self._exit_stack = stack.pop_all()
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        """Exit every member, in reverse order, even if one of them fails."""
        stack, self._exit_stack = self._exit_stack, None
        stack.__exit__(exc_type, exc_value, traceback)
