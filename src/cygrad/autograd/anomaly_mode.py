"""Anomaly detection: with it on, backward checks each node's gradients for NaN and raises an
error naming the first node (e.g. "Function 'DivBackward0' returned nan values in its 0th output.")."""
from cygrad._core import is_anomaly_enabled, set_detect_anomaly as _set


class set_detect_anomaly:
    """Sets anomaly detection now; as a context manager, restores the previous setting on exit."""

    def __init__(self, mode, check_nan=True):
        self._previous = is_anomaly_enabled()
        _set(bool(mode))

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        _set(self._previous)
        return False


class detect_anomaly(set_detect_anomaly):
    """Context manager turning anomaly detection on inside its block."""

    def __init__(self, check_nan=True):
        super().__init__(True)


__all__ = ["set_detect_anomaly", "detect_anomaly", "is_anomaly_enabled"]
