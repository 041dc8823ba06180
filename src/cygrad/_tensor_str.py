"""Text form of tensors, matching PyTorch's ``repr(tensor)`` character for character.

PyTorch's rules (torch/_tensor_str.py) are reproduced here on numpy arrays:

* One formatter is chosen for the whole tensor (or, when summarizing, for the elements that
  will actually be shown), so every element has the same column width.
* Floating data is printed in one of three styles, picked from the nonzero finite values only:
  "integer" (``1.``, ``-3.``) when every such value is whole, fixed point with ``precision``
  decimals otherwise, and scientific when the values span too wide a range (max/min > 1000),
  or are very large (> 1e8) or very small (< 1e-4). nan, inf and zeros never influence the
  choice of style nor the column width.
* Tensors with more than ``threshold`` elements are summarized: every dimension longer than
  ``2 * edgeitems`` keeps only its first and last ``edgeitems`` entries, with ``...`` between.
* Rows of a 1-d slice wrap so that a line stays within ``linewidth`` characters.
* Trailing annotations ("dtype=...", "requires_grad=True", ...) follow the data, moving to a new
  line when the current one would grow past ``linewidth``.

Only the data and the shape-derived ``size=(...)`` annotation are decided here; the caller passes
every other annotation in ``suffixes`` (see :func:`shows_dtype` for when dtype is shown).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any, Iterator, Sequence

import numpy as np

__all__ = [
    "get_printoptions",
    "printoptions",
    "set_printoptions",
    "shows_dtype",
    "tensor_repr",
]


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_options = _PrintOptions()

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set the options used by every tensor repr, like ``torch.set_printoptions``.

    ``profile`` ("default", "short" or "full") resets precision, threshold, edgeitems and
    linewidth first; explicit arguments then override it. As in torch, ``sci_mode`` is always
    assigned, so a call that omits it restores automatic choice of scientific notation.
    """
    if profile is not None:
        # torch silently ignores an unknown profile name; so do we.
        for name, value in _PROFILES.get(profile, {}).items():
            setattr(_options, name, value)
    if precision is not None:
        _options.precision = precision
    if threshold is not None:
        _options.threshold = threshold
    if edgeitems is not None:
        _options.edgeitems = edgeitems
    if linewidth is not None:
        _options.linewidth = linewidth
    _options.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current options, as keyword arguments accepted by :func:`set_printoptions`."""
    return dataclasses.asdict(_options)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Temporarily change the print options (same arguments as :func:`set_printoptions`)."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


def shows_dtype(dtype: np.dtype, size: int) -> bool:
    """Whether torch's repr names the dtype of a tensor with this dtype and element count.

    The default float dtype (float32) is never named. For nonempty tensors int64 and bool are not
    named either, because the printed values already reveal them; an empty tensor shows no values,
    so every dtype other than float32 is named.
    """
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        return False
    if size == 0:
        return True
    return dtype not in (np.dtype(np.int64), np.dtype(np.bool_))


class _ElementFormatter:
    """Formats single elements to a common width chosen from the elements that will be shown."""

    def __init__(self, shown: np.ndarray):
        self.is_floating = shown.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1

        if not self.is_floating:
            if shown.size:
                # str() of an integer is longest at one of the extremes; for bools,
                # min/max pick out "False" whenever it occurs.
                self.width = max(len(str(shown.min().item())), len(str(shown.max().item())))
            return

        values = shown.astype(np.float64).ravel()
        values = values[np.isfinite(values) & (values != 0)]
        if values.size == 0:
            return

        magnitudes = np.abs(values)
        # Python floats, so that a ratio overflowing to inf (1e300 / 1e-300) raises no warning.
        smallest, largest = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool(np.all(values == np.ceil(values)))
        if _options.sci_mode is None:
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        else:
            self.sci_mode = _options.sci_mode

        precision = _options.precision
        if self.sci_mode:
            self.width = max(len(f"{v:.{precision}e}") for v in values.tolist())
        elif self.int_mode:
            # One extra column for the "." that marks the values as floating point.
            self.width = max(len(f"{v:.0f}") + 1 for v in values.tolist())
        else:
            self.width = max(len(f"{v:.{precision}f}") for v in values.tolist())

    def format(self, value: float | int | bool) -> str:
        if not self.is_floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.width}.{_options.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{_options.precision}f}"
        # nan, inf and zeros were not measured, so they may be wider than the column (e.g. "-0.0000"
        # beside "0.5000"); torch lets them overflow it rather than widening the others.
        return text.rjust(self.width)


def _shown_elements(array: np.ndarray) -> np.ndarray:
    """The elements a summarized repr displays: the first and last ``edgeitems`` entries along
    every dimension longer than ``2 * edgeitems``."""
    edge = _options.edgeitems
    if array.ndim == 0:
        return array
    if not edge:
        # Only "..." is printed, so no element needs measuring.
        return array[(slice(0, 0),) * array.ndim]
    for axis, length in enumerate(array.shape):
        if length > 2 * edge:
            kept = np.r_[0:edge, length - edge : length]
            array = np.take(array, kept, axis=axis)
    return array


def _vector_str(vector: np.ndarray, indent: int, summarize: bool, formatter: _ElementFormatter) -> str:
    edge = _options.edgeitems
    if summarize and not edge:
        items = ["..."]
    elif summarize and vector.shape[0] > 2 * edge:
        items = (
            [formatter.format(v) for v in vector[:edge].tolist()]
            + [" ..."]
            + [formatter.format(v) for v in vector[-edge:].tolist()]
        )
    else:
        items = [formatter.format(v) for v in vector.tolist()]

    # Each item takes its column width plus ", "; the line budget ignores wider nan/inf items.
    per_line = max(1, (_options.linewidth - indent) // (formatter.width + 2))
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(array: np.ndarray, indent: int, summarize: bool, formatter: _ElementFormatter) -> str:
    if array.ndim == 0:
        return formatter.format(array.item())
    if array.ndim == 1:
        return _vector_str(array, indent, summarize, formatter)

    edge = _options.edgeitems
    length = array.shape[0]
    if summarize and length > 2 * edge:
        head = [_nested_str(array[i], indent + 1, summarize, formatter) for i in range(edge)]
        tail = [_nested_str(array[i], indent + 1, summarize, formatter) for i in range(length - edge, length)]
        blocks = head + ["..."] + tail
    else:
        blocks = [_nested_str(array[i], indent + 1, summarize, formatter) for i in range(length)]
    # Deeper dimensions are set apart by more blank lines (one per dimension beyond a matrix).
    separator = "," + "\n" * (array.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(blocks) + "]"


def _append_suffixes(text: str, suffixes: Sequence[str], indent: int) -> str:
    # torch's running line length is the true length of the last line plus 2; the slack is kept
    # so that wrapping decisions agree, but a suffix moved to a new line restarts the count exactly.
    line_length = len(text) - text.rfind("\n") + 1
    parts = [text]
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > _options.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line_length += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(array: np.ndarray, *, prefix: str = "tensor(", suffixes: Sequence[str] = ()) -> str:
    """Render ``array`` exactly as torch renders a tensor holding the same data.

    ``prefix`` opens the repr (its length sets the indentation of continuation lines).
    ``suffixes`` are preformatted annotations such as ``"dtype=cygrad.float64"`` or
    ``"grad_fn=<SumBackward0>"``, appended in order after the data. A ``size=(...)`` annotation is
    added first when torch would add one: for empty tensors that are not 1-d, and whenever
    ``edgeitems`` is 0.
    """
    array = np.asarray(array)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"cannot format arrays of dtype {array.dtype}")
    indent = len(prefix)
    size_suffix = [f"size={tuple(array.shape)}"]

    if array.size == 0:
        # An empty (0,) tensor is just "[]"; any other empty shape is spelled out.
        extra = size_suffix if array.ndim != 1 else []
        return _append_suffixes(prefix + "[]", [*extra, *suffixes], indent)

    extra = size_suffix if not _options.edgeitems else []
    summarize = array.size > _options.threshold
    formatter = _ElementFormatter(_shown_elements(array) if summarize else array)
    body = _nested_str(array, indent, summarize, formatter)
    return _append_suffixes(prefix + body, [*extra, *suffixes], indent)
