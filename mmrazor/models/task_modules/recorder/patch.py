"""``AttributePatch``: swap a function or method for a wrapper of it, and back.

Recorders and deliveries patch the object named by a dotted path while they are
entered and put back exactly what was there when they exit.
"""
import inspect
from typing import Any, Callable, List

from mmrazor.utils.lookup import import_object

Wrap = Callable[[Callable], Callable]


class AttributePatch:
    """The patch of one module-level function or class method, given by its path.

    The path is resolved at construction, so a bad path fails when the recorder or
    delivery is built. ``staticmethod`` and ``classmethod`` keep their kind when
    wrapped; an inherited method is patched on the named class and deleted again on
    restore, so the parent's method shows through as before.

    Note:
        Patching ``pkg.module.func`` replaces the name ``func`` in ``pkg.module`` only.
        Code that did ``from pkg.module import func`` holds the old function and is not
        affected, so give the path of the module where the caller looks the function
        up (e.g. ``'mmcls.models.heads.cls_head.accuracy'``, not the module that
        defines ``accuracy``).

    Args:
        path (str): ``'pkg.module.func'`` or ``'pkg.module.ClassName.method'``.
        on_class (bool): Whether ``path`` must name a class attribute (a method)
            rather than a module-level function.
    """

    def __init__(self, path: str, on_class: bool) -> None:
        owner, name, obj = import_object(path)
        if on_class and not isinstance(owner, type):
            raise TypeError(f"'{path}' is not a method of a class: give "
                            "'pkg.module.ClassName.method' (use a Function* type for "
                            'module-level functions)')
        if not on_class and isinstance(owner, type):
            raise TypeError(f"'{path}' is an attribute of class '{owner.__name__}', not "
                            'a module-level function (use a Method* type for methods)')
        if not callable(obj):
            raise TypeError(f"'{path}' is a {type(obj).__name__}, not a callable")
        self.path = path
        self.owner = owner
        self.name = name
        self._active = False
        self._had_own = False
        self._saved: Any = None

    def _raw(self) -> Any:
        """The attribute as stored, so staticmethod/classmethod are still visible."""
        return inspect.getattr_static(self.owner, self.name)

    def apply(self, wrap: Wrap) -> None:
        """Replace the attribute with ``wrap(current callable)``.

        Args:
            wrap (Callable): Maps the current function to its replacement.
        """
        if self._active:
            raise RuntimeError(f"'{self.path}' is already patched by this object; it "
                               'cannot be entered twice')
        own = vars(self.owner)
        self._had_own = self.name in own
        self._saved = own.get(self.name)
        raw = self._raw()
        if isinstance(raw, (staticmethod, classmethod)):
            patched = type(raw)(wrap(raw.__func__))
        else:
            patched = wrap(raw)
        setattr(self.owner, self.name, patched)
        self._active = True

    def restore(self) -> None:
        """Put back what was there before :meth:`apply`."""
        if self._had_own:
            setattr(self.owner, self.name, self._saved)
        else:
            delattr(self.owner, self.name)
        self._active = False
        self._saved = None

    def argument_binder(self) -> Callable[[tuple, dict], List[Any]]:
        """Return a function mapping a call's ``(args, kwargs)`` to its argument values.

        The values follow the signature's order, defaults filled in, without the
        ``self``/``cls`` of a method.

        Raises:
            TypeError: If the callable has no inspectable signature (some builtins).
        """
        raw = self._raw()
        func = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
        try:
            signature = inspect.signature(func)
        except (TypeError, ValueError) as error:
            raise TypeError(f"Cannot record the inputs of '{self.path}': it has no "
                            f'inspectable signature ({error})') from None
        skip = int(isinstance(self.owner, type) and not isinstance(raw, staticmethod))

        def bind(args: tuple, kwargs: dict) -> List[Any]:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            return list(bound.arguments.values())[skip:]

        return bind
