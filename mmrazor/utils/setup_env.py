"""Register every mmrazor module and set the default scope, as the tools do."""
import datetime
import warnings

from mmengine.registry import DefaultScope

from .compat import apply_compat_fixes


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import all mmrazor modules into the registries and apply the stack fixes.

    Args:
        init_default_scope (bool): Whether to make ``mmrazor`` the default scope, so
            that unscoped names are looked up in mmrazor's registries (then their
            MMEngine parents). Defaults to True.
    """
    apply_compat_fixes()
    import mmrazor.datasets  # noqa: F401
    import mmrazor.engine  # noqa: F401
    import mmrazor.models  # noqa: F401
    import mmrazor.structures  # noqa: F401
    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('mmrazor'):
        DefaultScope.get_instance('mmrazor', scope_name='mmrazor')
    elif current.scope_name != 'mmrazor':
        warnings.warn(f'The current default scope "{current.scope_name}" is not '
                      '"mmrazor"; a new scope "mmrazor" is made current.',
                      stacklevel=2)
        stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S-%f')
        DefaultScope.get_instance(f'mmrazor-{stamp}', scope_name='mmrazor')
