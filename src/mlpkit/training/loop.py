"""The training loop: shuffle, cut into batches, forward, loss, backward, optimiser step, evaluate.

``batch_size=None`` is full-batch ("true") gradient descent, ``1`` online (per-sample) and
``k`` mini-batch. Stopping: the epoch limit, a training-loss goal, or early stopping when the
monitored loss stalls. Progress goes to callbacks; this module never prints.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence

import numpy as np

from ..fast import kernels as _numba
from ..fast.threads import blas_threads, check_threads, rows_per_step
from ..layers import Dropout
from ..losses import Loss, get_loss
from ..metrics import accuracy_from_outputs
from ..network import Network
from ..optimizers import Optimizer, get_optimizer
from ..schedules import Schedule, get_schedule
from .callbacks import Callback
from .divergence import GradientCheck, TrainingDivergedError, all_finite, finite
from .early_stopping import EarlyStopping, resolve_early_stopping
from .history import History

__all__ = ["EarlyStopping", "TrainingDivergedError", "train"]


def _check_data(network: Network, loss: Loss, X, T,
                what: str) -> tuple[np.ndarray, np.ndarray, float]:
    """X and T as arrays of the network's dtype, checked; and ‖X‖² (Σ of every x², inf when
    it overflows)."""
    x = network.check_input(X)
    if x.shape[0] == 0:
        raise ValueError(f"{what}: X is empty (0 samples); training needs at least one sample")
    # Σ x² in one BLAS pass is finite only if every x is; if it is not (NaN, inf or merely
    # huge values), the chunked test decides.
    norm2 = float(np.vdot(x, x))
    if not math.isfinite(norm2) and not finite(x):
        raise ValueError(f"{what}: X contains NaN or infinite values")
    t = network.check_targets(T, loss, x.shape[0], f"{what}: ")
    if not finite(t):
        raise ValueError(f"{what}: T contains NaN or infinite values")
    return x, t, norm2


def _evaluate(network: Network, loss: Loss, x: np.ndarray, t: np.ndarray,
              batch_size: int = 4096) -> tuple[float, float]:
    """Loss and accuracy over (x, t), in chunks so large sets need little memory."""
    total, correct_weight = 0.0, 0.0
    n = x.shape[0]
    for start in range(0, n, batch_size):
        a = network.forward(x[start:start + batch_size])
        tb = t[start:start + batch_size]
        total += loss.value(a, tb) * (a.shape[0] if loss.reduction == "mean" else 1.0)
        name = network.output_layer.activation.name
        correct_weight += accuracy_from_outputs(a, tb, name) * a.shape[0]
    mean = total / n if loss.reduction == "mean" else total
    return mean, correct_weight / n


# Bug fix (test_training.py::test_loss_overflowing_in_the_batch_sum_raises_training_diverged):
# overflow to inf and inf − inf = NaN are how divergence shows; the loop detects them and raises
# TrainingDivergedError, so NumPy's RuntimeWarnings for them must not pre-empt it.
@np.errstate(over="ignore", invalid="ignore")
def train(
    network: Network,
    X,
    T,
    loss: str | Loss = "squared_error",
    optimizer: str | Optimizer | None = None,
    epochs: int = 10,
    batch_size: int | None = 32,
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
    validation_data: tuple | None = None,
    validation_split: float = 0.0,
    early_stopping: EarlyStopping | bool | int | None = None,
    loss_goal: float | None = None,
    callbacks: Sequence[Callback] = (),
    schedule: str | Schedule | None = None,
    history: History | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    threads: int | None = None,
    sample_weight=None,
) -> History:
    """Train ``network`` by backpropagation and gradient descent; return the :class:`History`.

    Parameters
    ----------
    network : Network
    X : array (n_samples, n_inputs)
    T : array (n_samples, n_outputs), or (n_samples,) class labels for cross-entropy
    loss : str or Loss
    optimizer : str, Optimizer or None
        ``None`` is ``SGD(learning_rate=0.1)``. Its state carries over between calls.
    epochs : int
        Epoch limit.
    batch_size : int or None
        ``None`` full batch, ``1`` online, ``k`` mini-batches of k samples (the last may be
        smaller).
    shuffle : bool
        Visit the samples in a new random order every epoch.
    seed : int, Generator or None
        Source of the shuffling and of ``validation_split``; the same seed gives the same
        weights bit for bit on the same machine.
    validation_data : (X_val, T_val) or None
    validation_split : float in [0, 1)
        Fraction of (X, T) held out at random as validation data (ignored when
        ``validation_data`` is given).
    early_stopping : EarlyStopping, True, int (patience) or None
    loss_goal : float or None
        Stop once the epoch's training loss is at or below this value.
    callbacks : sequence of Callback
    schedule : str, Schedule or None
        Learning-rate schedule (constant when None).
    history : History or None
        Append to this history (to continue a training run).
    checkpoint : str, PathLike or None
        Folder for a training checkpoint (created if needed, locked while training). It is
        written atomically at the end of every epoch, every ``checkpoint_every`` batches, when
        training ends and when SIGINT/SIGTERM arrives (training then stops after the current
        batch and raises :class:`~mlpkit.checkpoint.TrainingInterrupted`).
    checkpoint_every : int or None
        Also write the checkpoint every this many batches.
    resume : bool
        Continue from the checkpoint in ``checkpoint`` if there is one (the network's weights,
        optimiser, generator and history are replaced by the saved ones). The settings must
        equal those of the interrupted run, else :class:`CheckpointMismatchError` names the
        differences. Without ``resume`` an existing checkpoint is never overwritten.
    threads : int or None
        BLAS threads for this run; None chooses by layer size and machine load (one thread for
        small products or a busy machine; see :mod:`mlpkit.fast.threads`).
    sample_weight : array (n_samples,) or None
        Weight of each sample's loss (a weighted mean); with ``optimizer="lbfgs"`` only, which
        trains on the full batch with L-BFGS for at most ``epochs`` iterations
        (:func:`mlpkit.training.lbfgs.train_lbfgs`).

    Raises
    ------
    TrainingDivergedError
        The loss or a gradient became NaN or infinite (the weights stay the last finite ones).
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a mlpkit.Network, got {type(network).__name__}")
    if isinstance(optimizer, str) and optimizer.strip().lower() == "lbfgs":
        from .lbfgs import train_with_lbfgs

        return train_with_lbfgs(**{k: v for k, v in locals().items() if k != "optimizer"})
    if sample_weight is not None:
        raise ValueError(
            "sample_weight is supported with optimizer='lbfgs' (full batch) only, got "
            f"optimizer={optimizer!r}; mlpkit.sklearn's estimators weight mini-batches"
        )
    loss = get_loss(loss)
    optimizer = get_optimizer(optimizer)
    schedule = get_schedule(schedule)
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer)
        or batch_size < 1
    ):
        raise ValueError(
            f"batch_size must be a positive int or None (full batch), got {batch_size!r}"
        )
    if not (isinstance(validation_split, int | float) and 0.0 <= validation_split < 1.0):
        raise ValueError(f"validation_split must be a number in [0, 1), got {validation_split!r}")
    if loss_goal is not None and not (isinstance(loss_goal, int | float)
                                      and math.isfinite(loss_goal)):
        raise ValueError(f"loss_goal must be a finite number or None, got {loss_goal!r}")
    if not isinstance(resume, bool):
        raise TypeError(f"resume must be a bool, got {type(resume).__name__}")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint=<folder> to resume from")
    check_threads(threads)
    stopper = resolve_early_stopping(early_stopping)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    history = History() if history is None else history

    saver = saved = None
    if checkpoint is not None:
        from .checkpoint import CheckpointFolder

        saver = CheckpointFolder(checkpoint, checkpoint_every)
        saver.open()
    try:
        if saver is not None and saver.exists():
            if not resume:
                raise ValueError(
                    f"checkpoint folder {str(saver.folder)!r} already holds a checkpoint; pass "
                    "resume=True (CLI: --resume) to continue it, or choose another folder"
                )
            saved = saver.read()
        with blas_threads(threads, network.sizes, rows_per_step(X, batch_size)):
            return _train(network, X, T, loss, optimizer, epochs, batch_size, shuffle, seed,
                          rng, validation_data, validation_split, stopper, loss_goal,
                          list(callbacks), schedule, history, saver, saved)
    finally:
        if saver is not None:
            saver.close()


def _train(network, X, T, loss, optimizer, epochs, batch_size, shuffle, seed, rng,
           validation_data, validation_split, stopper, loss_goal, callbacks, schedule, history,
           saver, saved) -> History:
    """The loop of :func:`train` (arguments already checked)."""
    from . import checkpoint as ckpt

    state = None
    if saved is not None:
        state = saved[1]
        ckpt.set_rng_state(rng, state["initial_rng_state"], saver.folder)
    initial_rng_state = ckpt.rng_state(rng) if saver is not None else None

    x, t, x_norm2 = _check_data(network, loss, X, T, "training data")
    fingerprint_data = (x, t)
    val = None
    if validation_data is not None:
        if not (isinstance(validation_data, tuple | list) and len(validation_data) == 2):
            raise TypeError("validation_data must be a pair (X_val, T_val)")
        x_val, t_val, _ = _check_data(network, loss, *validation_data, "validation_data")
        val = (x_val, t_val)
    elif validation_split > 0.0:
        n_val = round(x.shape[0] * validation_split)
        if n_val < 1 or n_val >= x.shape[0]:
            raise ValueError(
                f"validation_split={validation_split} leaves {n_val} validation samples out of "
                f"{x.shape[0]}: the validation set is too small; raise it or provide more data"
            )
        order = rng.permutation(x.shape[0])
        x_val, t_val = x[order[:n_val]], t[order[:n_val]]
        x, t = x[order[n_val:]], t[order[n_val:]]
    else:
        x_val = t_val = None

    start_epoch = history.epochs
    fingerprint = None
    if saver is not None:
        fingerprint = ckpt.config_fingerprint(
            network, loss, optimizer, schedule, stopper, *fingerprint_data, val, epochs=epochs,
            batch_size=batch_size, shuffle=shuffle, seed=seed,
            validation_split=validation_split, loss_goal=loss_goal, start_epoch=start_epoch)

    n = x.shape[0]
    size = n if batch_size is None else min(int(batch_size), n)
    n_batches = math.ceil(n / size)
    end_epoch = start_epoch + epochs
    activation_name = network.output_layer.activation.name
    parameters = network.parameters()
    output = network.output_layer
    schedule.start(optimizer.learning_rate)
    monitor = None
    if stopper is not None:
        stopper.reset()
        monitor = stopper.monitor
        if monitor == "auto":
            monitor = "val_loss" if x_val is not None else "loss"
        if monitor == "val_loss" and x_val is None:
            raise ValueError(
                "early stopping on 'val_loss' needs validation_data or validation_split"
            )
    dropouts = [layer for layer in network.layers if isinstance(layer, Dropout)]

    first_epoch, first_batch = start_epoch, 0
    samples_seen = 0
    last_finite: float | None = None
    total_loss, total_correct = 0.0, 0.0
    epoch_rng_state = None
    if state is not None:
        ckpt.check_fingerprint(saver.folder, state["fingerprint"], _jsonable(fingerprint))
        model = saved[0]
        network.set_weights(model.network.get_weights())
        if model.optimizer is not None:
            optimizer.load_state_dict(model.optimizer.state_dict())
        history.__dict__.update(vars(model.history or History()))
        schedule.load_state_dict(ckpt.decode_state(state["schedule"]))
        for layer, layer_state in zip(dropouts, state["dropout_rng_states"], strict=True):
            ckpt.set_rng_state(layer.rng, layer_state, saver.folder)
        if stopper is not None:
            stopper.best = ckpt.decode_float(state["stopper"]["best"])
            stopper.best_epoch = state["stopper"]["best_epoch"]
            stopper.wait = state["stopper"]["wait"]
            best = [model.extra_tensors[f"best.{i}"] for i in range(len(parameters))
                    if f"best.{i}" in model.extra_tensors]
            stopper.best_weights = best or None
        if state["complete"]:
            history.stop_reason = state["stop_reason"]
            return history
        first_epoch, first_batch = state["epoch"], state["batch"]
        samples_seen = state["samples_seen"]
        last_finite = ckpt.decode_float(state["last_finite"])
        total_loss, total_correct = state["total_loss"], state["total_correct"]
        epoch_rng_state = state["epoch_rng_state"]
        ckpt.set_rng_state(rng, epoch_rng_state if first_batch else state["rng_state"],
                           saver.folder)
        end_epoch = state["fingerprint"]["epochs"]
        callbacks.append(saver.flag)
    elif saver is not None:
        callbacks.append(saver.flag)

    def write_checkpoint(epoch: int, batch: int, complete: bool, reason: str = "") -> None:
        if not all_finite(parameters):  # NaN weights never replace a good checkpoint
            raise TrainingDivergedError(epoch, max(batch - 1, 0), last_finite,
                                        optimizer.learning_rate, "weights")
        record = {
            "kind": "mlpkit-checkpoint", "fingerprint": fingerprint, "complete": complete,
            "stop_reason": reason, "epoch": epoch, "batch": batch,
            "initial_rng_state": initial_rng_state, "epoch_rng_state": epoch_rng_state,
            "rng_state": ckpt.rng_state(rng),
            "dropout_rng_states": [ckpt.rng_state(layer.rng) for layer in dropouts],
            "samples_seen": samples_seen, "last_finite": ckpt.encode_float(last_finite),
            "total_loss": total_loss, "total_correct": total_correct,
            "schedule": ckpt.encode_state(schedule.state_dict()),
            "stopper": None if stopper is None else {
                "best": ckpt.encode_float(stopper.best), "best_epoch": stopper.best_epoch,
                "wait": stopper.wait},
        }
        best = None if stopper is None else stopper.best_weights
        saver.write(network, optimizer, history, record, best)

    # Gather buffers: a shuffled batch is copied into these, never a permuted copy of the data.
    x_buffer = np.empty((size, x.shape[1]), dtype=x.dtype)
    t_buffer = np.empty((size, t.shape[1]), dtype=t.dtype)
    gradient_check = GradientCheck(network, x_norm2)
    gradients_bounded = gradient_check.bounded
    # Accuracy of several outputs (arg-max against arg-max, as accuracy_from_outputs): each
    # batch only stores its predicted classes; they are compared with the targets' classes
    # (found once) in one pass when the epoch ends or a checkpoint needs the count.
    several = network.n_outputs > 1
    labels = t.argmax(axis=1) if several else None
    predicted = np.empty(n, dtype=np.intp) if several else None
    counted = 0  # samples of this epoch whose predictions are already in total_correct
    per_sample = loss.reduction == "mean"
    layers = network.layers
    output_activation = output.activation
    value_and_delta, backward, step = loss.value_and_delta, network.backward, optimizer.step
    # Optional compiled element-wise work (numba; the common case only, else None): the same
    # forward pass, loss, δ and gradients as the lines below, in fewer calls per batch.
    fused = _numba.FusedStep.for_training(network, loss)
    for callback in callbacks:
        callback.stop_training = False
        callback.on_train_begin(network, history, n_batches)

    def tally(upto: int) -> None:
        """Add the correct predictions of this epoch's samples [counted, upto) to the count."""
        nonlocal total_correct, counted
        if several and upto > counted:
            targets = labels[counted:upto] if order is None else labels[order[counted:upto]]
            total_correct += int(np.count_nonzero(predicted[counted:upto] == targets))
        counted = upto

    stop_reason = "epochs"
    epoch = first_epoch
    for epoch in range(first_epoch, end_epoch):
        started = time.perf_counter()
        for callback in callbacks:
            callback.on_epoch_begin(epoch)
        skip = first_batch if epoch == first_epoch else 0
        if saver is not None:
            epoch_rng_state = ckpt.rng_state(rng)
        order = rng.permutation(n) if shuffle and n_batches > 1 else None
        epoch_start_weights = network.get_weights()
        if not skip:
            total_loss, total_correct = 0.0, 0.0
        counted = min(skip * size, n)
        interrupted_at = None
        stop = counted
        for batch in range(skip, n_batches):
            start, stop = batch * size, min((batch + 1) * size, n)
            if order is None:
                xb, tb = x[start:stop], t[start:stop]
            else:
                index = order[start:stop]
                xb = x.take(index, axis=0, out=x_buffer[: stop - start])
                tb = t.take(index, axis=0, out=t_buffer[: stop - start])
            if fused is not None:
                batch_loss = fused.forward_loss(xb, tb)
                a = output.a
            else:
                a = xb
                for layer in layers:
                    a = layer.forward(a, training=True)
                batch_loss, delta = value_and_delta(output_activation, output.z, a, tb)
            if not math.isfinite(batch_loss):
                if not all_finite(parameters):
                    network.set_weights(epoch_start_weights)
                history.stop_reason = "diverged"
                raise TrainingDivergedError(epoch, batch, last_finite, optimizer.learning_rate,
                                            "loss", batch_loss)
            if fused is not None:
                fused.backward()
            else:
                backward(delta)
            if not gradients_bounded():
                gradient_sum = gradient_check.total()
                if not math.isfinite(gradient_sum):  # the step is skipped: weights stay finite
                    history.stop_reason = "diverged"
                    raise TrainingDivergedError(epoch, batch, batch_loss,
                                                optimizer.learning_rate, "gradient", gradient_sum)
            last_finite = batch_loss
            total_loss += batch_loss * (stop - start) if per_sample else batch_loss
            if several:
                a.argmax(axis=1, out=predicted[start:stop])
            else:
                total_correct += accuracy_from_outputs(a, tb, activation_name) * (stop - start)
            step(parameters)
            samples_seen += stop - start
            if callbacks:
                for callback in callbacks:
                    callback.on_batch_end(epoch, batch, batch_loss)
                if any(callback.stop_training for callback in callbacks):
                    interrupted_at = batch + 1
                    break
            if saver is not None and saver.due() and batch + 1 < n_batches:
                tally(stop)
                write_checkpoint(epoch, batch + 1, False)
        tally(stop)
        if interrupted_at is not None and interrupted_at < n_batches:
            stop_reason = "interrupted"
            if saver is not None:
                write_checkpoint(epoch, interrupted_at, False)
            break
        epoch_loss = total_loss / n if loss.reduction == "mean" else total_loss
        val_loss = val_accuracy = math.nan
        if x_val is not None:
            val_loss, val_accuracy = _evaluate(network, loss, x_val, t_val)
        history.append(
            loss=epoch_loss,
            accuracy=total_correct / n,
            val_loss=val_loss,
            val_accuracy=val_accuracy,
            learning_rate=optimizer.learning_rate,
            seconds=time.perf_counter() - started,
        )
        monitored = val_loss if x_val is not None else epoch_loss
        optimizer.learning_rate = schedule.rate(epoch, samples_seen, monitored)
        for callback in callbacks:
            callback.on_epoch_end(epoch, history)
        if loss_goal is not None and epoch_loss <= loss_goal:
            stop_reason = "loss_goal"
            break
        if stopper is not None:
            value = val_loss if monitor == "val_loss" else epoch_loss
            if stopper.update(epoch, value, network):
                stop_reason = "early_stopping"
                break
        if interrupted_at is not None or any(callback.stop_training for callback in callbacks):
            stop_reason = "interrupted"
            if saver is not None:
                epoch_rng_state = None
                write_checkpoint(epoch + 1, 0, epoch + 1 >= end_epoch, "epochs")
            break
        if saver is not None and epoch + 1 < end_epoch:
            epoch_rng_state = None
            write_checkpoint(epoch + 1, 0, False)
    if stopper is not None:
        stopper.restore(network)
        history.best_epoch = stopper.best_epoch
    history.stop_reason = stop_reason
    if saver is not None and stop_reason != "interrupted":
        write_checkpoint(end_epoch, 0, True, stop_reason)
    for callback in callbacks:
        callback.on_train_end(history)
    if saver is not None and saver.flag.signal is not None:
        raise ckpt.TrainingInterrupted(epoch, end_epoch, str(saver.folder), history)
    return history


def _jsonable(value):
    """``value`` as it reads back from a checkpoint's JSON (tuples become lists)."""
    import json

    return json.loads(json.dumps(value))
