"""Grad-mode switches: no_grad, enable_grad, set_grad_enabled (context managers and decorators).

The flag itself is a C thread-local in the compiled core, so each thread has its own mode."""
import functools
import inspect

from cygrad._core import _set_grad_enabled, is_grad_enabled


class _GradModeSwitch:
    """Sets grad mode to `self._mode` inside a `with` block or a decorated function.
    Usable as `@no_grad()` and as `@no_grad` (a function passed directly is decorated)."""

    _mode = False

    def __new__(cls, orig_func=None):
        instance = super().__new__(cls)
        if orig_func is None:
            return instance
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}() takes no arguments (or a function to decorate)")
        instance.__init__()
        return instance(orig_func)

    def __init__(self, orig_func=None):
        self._previous = []

    def __enter__(self):
        self._previous.append(_set_grad_enabled(self._mode))
        return None

    def __exit__(self, exc_type, exc_value, traceback):
        _set_grad_enabled(self._previous.pop())
        return False

    def __call__(self, func):
        switch = type(self)
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def generator_wrapper(*args, **kwargs):
                generator = func(*args, **kwargs)
                with switch():
                    response = generator.send(None)
                while True:
                    try:
                        with switch():
                            request = yield response
                            response = generator.send(request)
                    except StopIteration as stop:
                        return stop.value
            return generator_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with switch():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradModeSwitch):
    """Ops inside record no graph (parameter updates, evaluation)."""
    _mode = False


class enable_grad(_GradModeSwitch):
    """Ops inside record the graph again, even within no_grad."""
    _mode = True


class inference_mode(no_grad):
    """torch.inference_mode: here the same as no_grad."""

    def __new__(cls, mode=True):
        if callable(mode):
            return no_grad.__new__(cls, mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        super().__init__()
        self._mode = not mode if isinstance(mode, bool) else False


class set_grad_enabled:
    """Sets grad mode now (as a function) and restores the previous mode on exit (as a context
    manager or decorator)."""

    def __init__(self, mode):
        self._previous = _set_grad_enabled(bool(mode))
        self._mode = bool(mode)

    def __enter__(self):
        return None

    def __exit__(self, exc_type, exc_value, traceback):
        _set_grad_enabled(self._previous)
        return False

    def __call__(self, func):
        _set_grad_enabled(self._previous)
        mode = self._mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)
        return wrapper


__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode"]
