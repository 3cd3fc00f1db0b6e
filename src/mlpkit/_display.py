"""How mlpkit's objects show themselves in Jupyter (HTML tables) and in a terminal (short text).

``Network``, ``Dense``, ``History`` and ``StepTrace`` each have a one-line ``_repr_html_``
that calls a function here; Jupyter calls it to display the object as the value of a cell.
This module builds strings only: it imports nothing from NumPy or the rest of mlpkit and reads
the objects through their public attributes (arrays are reduced with their own methods).
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

__all__ = [
    "dense_html",
    "history_html",
    "history_repr",
    "html_table",
    "network_html",
    "step_trace_html",
    "step_trace_repr",
]

_STYLE = "border-collapse: collapse; font-variant-numeric: tabular-nums;"
#: History columns: attribute, header, format ("%" shows a fraction as a percentage)
_HISTORY_COLUMNS = (
    ("loss", "loss", ".4f"),
    ("accuracy", "accuracy", "%"),
    ("val_loss", "val_loss", ".4f"),
    ("val_accuracy", "val_accuracy", "%"),
    ("learning_rate", "η", ".4g"),
    ("seconds", "seconds", ".3g"),
)


def html_table(
    header: list[str],
    rows: list[list[str]],
    caption: str | None = None,
    bold_rows: frozenset[int] = frozenset(),
) -> str:
    """An HTML ``<table>``: ``header`` cells, then one ``<tr>`` per row (all text escaped).

    Cells after the first are right-aligned (numbers); rows whose index is in ``bold_rows``
    are set in bold.
    """
    out = [f'<table style="{_STYLE}">']
    if caption:
        out.append(f'<caption style="text-align: left;">{escape(caption)}</caption>')
    out.append("<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr></thead>")
    out.append("<tbody>")
    for index, row in enumerate(rows):
        weight = ' style="font-weight: bold;"' if index in bold_rows else ""
        cells = "".join(
            f'<td style="text-align: {"left" if i == 0 else "right"};">{escape(str(v))}</td>'
            for i, v in enumerate(row)
        )
        out.append(f"<tr{weight}>{cells}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _number(value: Any, spec: str) -> str:
    value = float(value)
    if math.isnan(value):
        return "–"
    if spec == "%":
        return f"{100 * value:.2f}%"
    return format(value, spec)


def _stats(array: Any) -> str:
    """min / mean / max of an array, from its own reductions."""
    if array is None or array.size == 0:
        return "–"
    return f"{float(array.min()):.3g} / {float(array.mean()):.3g} / {float(array.max()):.3g}"


def _layer_row(index: int, layer: Any) -> list[str]:
    if type(layer).__name__ == "Dropout":
        return [str(index), f"Dropout({layer.rate:g})", "", "", "", "0"]
    return [
        str(index),
        "Dense",
        f"{layer.n_inputs} → {layer.n_outputs}",
        layer.activation.name,
        "yes" if layer.bias else "no",
        f"{layer.n_parameters:,}",
    ]


def network_html(network: Any) -> str:
    """A table of the layers of a ``Network``: sizes, activation, bias, parameter count."""
    rows = [_layer_row(i + 1, layer) for i, layer in enumerate(network.layers)]
    rows.append(["", "total", "", "", "", f"{network.n_parameters:,}"])
    sizes = "-".join(str(n) for n in network.sizes)
    caption = f"Network {sizes} ({network.dtype})"
    header = ["#", "layer", "inputs → units", "activation σ", "bias", "parameters"]
    return html_table(header, rows, caption, bold_rows=frozenset({len(rows) - 1}))


def dense_html(layer: Any) -> str:
    """A ``Dense`` layer: its shapes, activation, initialiser and the range of its parameters."""
    weights = layer.weights
    rows = [
        ["weights W", f"{tuple(weights.shape)}", str(weights.dtype), _stats(weights)],
        ["biases b", "–" if layer.biases is None else f"{tuple(layer.biases.shape)}",
         "–" if layer.biases is None else str(layer.biases.dtype), _stats(layer.biases)],
    ]  # fmt: skip
    caption = (
        f"Dense({layer.n_inputs}, {layer.n_outputs}): z = a_prev · W + b, "
        f"a = {layer.activation.name}(z); {layer.n_parameters:,} parameters, init {layer.init!r}"
    )
    return html_table(["parameter", "shape", "dtype", "min / mean / max"], rows, caption)


def _history_columns(history: Any) -> list[tuple[str, str, str]]:
    columns = []
    for key, header, spec in _HISTORY_COLUMNS:
        values = getattr(history, key)
        if values and not all(math.isnan(float(v)) for v in values):
            columns.append((key, header, spec))
    return columns


def history_html(history: Any, max_rows: int = 20) -> str:
    """A ``History`` as a table, one row per epoch (the first and last epochs when there are
    more than ``max_rows``); the best epoch (early stopping) in bold."""
    columns = _history_columns(history)
    n = history.epochs
    half = max_rows // 2
    shown = list(range(n)) if n <= max_rows else [*range(half), *range(n - half, n)]
    rows, bold = [], set()
    for position, epoch in enumerate(shown):
        if position and epoch != shown[position - 1] + 1:
            rows.append(["…"] + [""] * len(columns))
        if epoch == history.best_epoch:
            bold.add(len(rows))
        values = [_number(getattr(history, k)[epoch], spec) for k, _, spec in columns]
        rows.append([str(epoch + 1), *values])
    caption = f"History: {n} epoch{'s' if n != 1 else ''}"
    if history.stop_reason:
        caption += f", stopped by {history.stop_reason}"
    if history.best_epoch is not None:
        caption += f", best epoch {history.best_epoch + 1} (bold)"
    return html_table(["epoch"] + [h for _, h, _ in columns], rows, caption, frozenset(bold))


def history_repr(history: Any) -> str:
    """``History(epochs=30, loss=0.0213, accuracy=97.12%, stop_reason='max_epochs')``."""
    parts = [f"epochs={history.epochs}"]
    if history.epochs:
        parts += [f"{h}={_number(history.last(k), s)}" for k, h, s in _history_columns(history)
                  if k not in ("learning_rate", "seconds")]  # fmt: skip
    if history.stop_reason:
        parts.append(f"stop_reason={history.stop_reason!r}")
    if history.best_epoch is not None:
        parts.append(f"best_epoch={history.best_epoch}")
    return f"History({', '.join(parts)})"


def step_trace_html(trace: Any, digits: int = 6) -> str:
    """A ``StepTrace`` as the tables of ``StepTrace.to_text``, numbers to ``digits`` digits."""
    out = [f"<p>{escape(line)}</p>" for line in trace._preamble(digits)]
    for title, header, rows in trace._blocks(digits):
        out.append(f"<h4>{escape(title)}</h4>")
        out.append(html_table(header, rows))
    return "\n".join(out)


def step_trace_repr(trace: Any) -> str:
    """``StepTrace(loss='squared_error', E=0.298371, optimizer=..., layers=2, applied=False)``;
    ``print(trace)`` gives the full tables."""
    return (
        f"StepTrace(loss={trace.loss_name!r}, E={trace.loss_value:.6g}, "
        f"optimizer={trace.optimizer!r}, layers={len(trace.layers)}, applied={trace.applied})"
    )
