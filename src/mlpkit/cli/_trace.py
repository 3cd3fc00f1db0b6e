"""A readable summary of one traced training step of a large network: per layer, the shapes
and the range of z, a and δ, the size of the gradients and of the update (``mlpkit trace``
prints every number only with ``--full``)."""

from __future__ import annotations

import numpy as np

from ..network import Network

__all__ = ["trace_summary"]


def _stats(values: np.ndarray, digits: int) -> str:
    v = np.asarray(values, dtype=np.float64)
    return (f"min {v.min():.{digits}g}  mean {v.mean():.{digits}g}  max {v.max():.{digits}g}  "
            f"mean |.| {np.abs(v).mean():.{digits}g}")


def trace_summary(trace, network: Network, digits: int = 4) -> str:
    """Text of ``trace`` (a :class:`mlpkit.StepTrace`) summarised layer by layer."""
    digits = min(digits, 4)
    n = trace.layers[0].z.shape[0] if trace.layers else 0
    lines = [
        f"One training step (summary; --full prints all {network.n_parameters:,} parameters): "
        f"loss {trace.loss_name}, E = {trace.loss_value:.{max(digits, 6)}g}; optimizer "
        f"{trace.optimizer}; {n} sample{'s' if n != 1 else ''}",
        "Forward: z = a_prev · W + b, a = σ(z). Backward: δ^L from the loss, "
        "δ^l = (δ^(l+1) W^(l+1)ᵀ) ⊙ σ'(z^l); ∂E/∂W = a_prevᵀ δ, ∂E/∂b = Σ δ.",
    ]
    for layer in trace.layers:
        lines += ["", f"Layer {layer.index} ({layer.description}): z, a, δ of shape "
                  f"{layer.z.shape}"]  # fmt: skip
        lines.append(f"  z  {_stats(layer.z, digits)}")
        lines.append(f"  a  {_stats(layer.a, digits)}")
        lines.append(f"  δ  {_stats(layer.delta, digits)}")
        for p in layer.parameters:
            norm = float(np.linalg.norm(np.asarray(p.gradient, dtype=np.float64)))
            step = float(np.linalg.norm(np.asarray(p.update, dtype=np.float64)))
            before = float(np.linalg.norm(np.asarray(p.before, dtype=np.float64)))
            lines.append(f"  {p.name} {p.before.shape}: |∂E/∂{p.name[0]}| = {norm:.{digits}g}, "
                         f"|Δ| = {step:.{digits}g} (|{p.name[0]}| = {before:.{digits}g}), "
                         f"largest |Δ| {np.abs(p.update).max():.{digits}g}")  # fmt: skip
    return "\n".join(lines)
