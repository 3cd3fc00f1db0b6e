"""Full-batch training with L-BFGS (SciPy's L-BFGS-B): every step sees the whole training set.

Instead of mini-batch gradient steps, the loss over all samples and its gradient (one forward
and one backward pass) are handed to a quasi-Newton method that builds a curvature estimate
from the last gradients. It needs SciPy, which comes with the ``sklearn`` extra:
``pip install "mlpkit[sklearn]"``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..losses import Loss, get_loss
from ..network import Network
from ..validation import check_sample_weight
from .history import History

__all__ = ["LBFGSResult", "minimize_lbfgs", "train_lbfgs", "train_with_lbfgs"]


def _scipy_minimize():
    try:
        from scipy.optimize import minimize
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            'L-BFGS training needs SciPy: pip install "mlpkit[sklearn]" (or scipy)'
        ) from error
    return minimize


def minimize_lbfgs(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    *,
    max_iter: int,
    max_fun: int,
    tol: float,
    callback: Callable | None = None,
):
    """Minimise ``fun(x) -> (value, gradient)`` from ``x0`` with SciPy's L-BFGS-B.

    ``max_iter`` bounds the iterations, ``max_fun`` the loss evaluations, and the search stops
    when every gradient component is at most ``tol`` (SciPy's ``gtol``). ``callback`` is
    SciPy's, called after every iteration. Returns SciPy's
    ``OptimizeResult`` (``x``, ``fun``, ``nit``, ``nfev``, ``status``, ``message``).
    """
    minimize = _scipy_minimize()
    return minimize(
        fun,
        x0,
        method="L-BFGS-B",
        jac=True,
        options={"maxfun": int(max_fun), "maxiter": int(max_iter), "gtol": float(tol)},
        callback=callback,
    )


@dataclass
class LBFGSResult:
    """What :func:`train_lbfgs` did: final loss (with the L2 term), iterations, loss
    evaluations, whether SciPy reported convergence, and its message."""

    loss: float
    n_iter: int
    n_fun: int
    converged: bool
    message: str


def train_lbfgs(
    network: Network,
    X,
    T,
    loss: str | Loss = "squared_error",
    *,
    sample_weight=None,
    weight_decay: float = 0.0,
    max_iter: int = 200,
    max_fun: int = 15000,
    tol: float = 1e-4,
    history: History | None = None,
) -> LBFGSResult:
    """Train ``network`` in place on all of (X, T) with L-BFGS.

    Parameters
    ----------
    network : Network
    X : array (n_samples, n_inputs)
    T : array (n_samples, n_outputs), or (n_samples,) class labels for cross-entropy
    loss : str or Loss
        Averaged over the samples; with ``sample_weight`` a weighted average
        Σ_k w_k E_k / Σ_k w_k (:meth:`Loss.output_value` and :meth:`Loss.output_delta`
        with ``sample_weight``, as every mini-batch of :func:`mlpkit.train`).
    sample_weight : array (n_samples,) or None
        Weight of each sample's loss (finite, >= 0, not all 0).
    weight_decay : float >= 0
        Adds ``weight_decay / 2 · Σ ‖W‖²`` (weights, not biases) to the loss.
    max_iter, max_fun, tol
        L-BFGS iterations, loss evaluations, and gradient tolerance (see :func:`minimize_lbfgs`).
    history : History or None
        If given, one row is appended per L-BFGS iteration (its loss, with the L2 term).
    """
    loss = get_loss(loss)
    x, t = network.check_batch(X, T, loss)
    w = None if sample_weight is None else check_sample_weight(sample_weight, x.shape[0])
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    params = network.parameters()
    shapes = [p.shape for p, _ in params]
    sizes = [p.size for p, _ in params]
    weight_ids = {id(layer.weights) for layer in network.dense_layers}

    def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
        parts = np.split(theta, np.cumsum(sizes)[:-1])
        network.set_weights([p.reshape(shape) for p, shape in zip(parts, shapes, strict=True)])
        a = network.forward(x)
        out = network.output_layer
        z = out.z if out.z is not None else a  # set by forward
        value, delta = loss.value_and_delta(out.activation, z, a, t, w)
        network.backward(delta.astype(network.dtype, copy=False))
        grads = []
        for p, g in network.parameters():
            if weight_decay and id(p) in weight_ids:
                value += 0.5 * weight_decay * float(np.vdot(p, p))
                g = g + weight_decay * p
            grads.append(np.asarray(g, dtype=np.float64).ravel())
        return value, np.concatenate(grads)

    theta0 = np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p, _ in params])
    started = time.perf_counter()

    def record(intermediate_result) -> None:
        nonlocal started
        assert history is not None  # record is only passed with a history
        value = getattr(intermediate_result, "fun", None)
        if value is None:  # SciPy < 1.11 passes the point only: its loss, once more
            value = fun(np.asarray(intermediate_result))[0]
        history.append(loss=value, accuracy=math.nan, val_loss=math.nan,
                       val_accuracy=math.nan, learning_rate=math.nan,
                       seconds=time.perf_counter() - started)
        started = time.perf_counter()

    result = minimize_lbfgs(fun, theta0, max_iter=max_iter, max_fun=max_fun, tol=tol,
                            callback=None if history is None else record)
    if history is not None:
        history.stop_reason = "converged" if result.status == 0 else "epochs"

    fun(result.x)  # leave the network at the solution
    return LBFGSResult(
        loss=float(result.fun),
        n_iter=int(min(result.nit, max_iter)),
        n_fun=int(result.nfev),
        converged=result.status == 0,
        message=str(result.message),
    )


def train_with_lbfgs(network: Network, X, T, loss, *, epochs: int, sample_weight=None,
                     history: History | None = None, **unused) -> History:
    """:func:`mlpkit.train` with ``optimizer="lbfgs"``: ``epochs`` L-BFGS iterations at most
    over the full batch (see :func:`train_lbfgs`); returns the History, one row per iteration.

    The mini-batch options have no meaning for a full-batch method: any of them set away from
    ``train``'s default is refused (``unused`` holds them with their values).
    """
    defaults = {"batch_size": 32, "shuffle": True, "seed": None, "validation_data": None,
                "validation_split": 0.0, "early_stopping": None, "loss_goal": None,
                "callbacks": (), "schedule": None, "checkpoint": None,
                "checkpoint_every": None, "resume": False}
    given = sorted(k for k, v in unused.items()
                   if k in defaults and not _same(v, defaults[k]))
    if given:
        raise ValueError(
            f"optimizer='lbfgs' trains on the full batch without {', '.join(given)}; "
            "leave them at their defaults"
        )
    history = History() if history is None else history
    from ..fast.threads import blas_threads

    with blas_threads(unused.get("threads"), network.sizes, len(X)):
        train_lbfgs(network, X, T, loss, sample_weight=sample_weight, max_iter=int(epochs),
                    history=history)
    return history


def _same(value, default) -> bool:
    if default == () and isinstance(value, list | tuple):
        return len(value) == 0
    return value is default or (value == default if not isinstance(value, np.ndarray) else False)
