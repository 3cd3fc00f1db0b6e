"""Per-epoch bookkeeping of the training loop: the summed batch losses, the correct predictions,
the samples seen and the last finite loss (all a checkpoint needs to continue an epoch)."""

from __future__ import annotations

import numpy as np

from ..losses import Loss
from ..metrics import accuracy_from_outputs
from ..network import Network

__all__ = ["EpochTally"]


class EpochTally:
    """Sums over the batches of an epoch, for its loss and accuracy.

    With several outputs (arg-max against arg-max, as :func:`~mlpkit.accuracy_from_outputs`)
    each batch only stores its predicted classes; they are compared with the targets' classes
    (found once) in one pass when the epoch ends or a checkpoint needs the count.
    """

    def __init__(self, network: Network, loss: Loss, t: np.ndarray,
                 w: np.ndarray | None = None) -> None:
        self.n = t.shape[0]
        # a mean loss is a mean over the samples, or with sample weights w the weighted mean
        # Σ_k w_k E_k / Σ_k w_k: each batch's (weighted) mean counts with its size (Σ of its w)
        self.total_weight = float(self.n if w is None else w.sum())
        self.per_sample = loss.reduction == "mean"
        self.activation_name = network.output_layer.activation.name
        self.several = network.n_outputs > 1
        self.labels = t.argmax(axis=1) if self.several else None
        self.predicted = np.empty(self.n, dtype=np.intp) if self.several else None
        self.total_loss = self.total_correct = 0.0
        self.samples_seen = 0
        self.last_finite: float | None = None
        self.counted = 0  # samples of this epoch whose predictions are in total_correct
        self.order: np.ndarray | None = None

    def start_epoch(self, order: np.ndarray | None, first_sample: int) -> None:
        """A new epoch visiting the samples in ``order``; resuming at ``first_sample`` keeps
        the sums restored from the checkpoint."""
        self.order = order
        if not first_sample:
            self.total_loss = self.total_correct = 0.0
        self.counted = min(first_sample, self.n)

    def add(self, a: np.ndarray, tb: np.ndarray, batch_loss: float, start: int,
            stop: int, wb: np.ndarray | None = None) -> None:
        """Record the batch at positions [start, stop): outputs ``a``, targets ``tb``, sample
        weights ``wb`` or None."""
        self.last_finite = batch_loss
        if self.per_sample:
            size = stop - start if wb is None else float(wb.sum())
            self.total_loss += batch_loss * size
        else:
            self.total_loss += batch_loss
        if self.predicted is not None:  # several outputs
            a.argmax(axis=1, out=self.predicted[start:stop])
        else:
            self.total_correct += accuracy_from_outputs(a, tb, self.activation_name) * (
                stop - start)
        self.samples_seen += stop - start

    def add_outputs(self, a: np.ndarray, t: np.ndarray, loss_sum: float,
                    last_loss: float | None, start: int, stop: int) -> None:
        """Record the batches at positions [start, stop) at once (a compiled epoch): outputs
        ``a`` and targets ``t`` (stop − start rows), ``loss_sum`` the sum ``add`` would have
        made of their losses, ``last_loss`` the last one's."""
        self.last_finite = last_loss
        self.total_loss += loss_sum
        if self.predicted is not None:
            a.argmax(axis=1, out=self.predicted[start:stop])
        else:
            self.total_correct += accuracy_from_outputs(a, t, self.activation_name) * (
                stop - start)
        self.samples_seen += stop - start

    def tally(self, upto: int) -> None:
        """Add the correct predictions of the samples [counted, upto) to the count."""
        if self.predicted is not None and self.labels is not None and upto > self.counted:
            seen = slice(self.counted, upto)
            targets = self.labels[seen] if self.order is None else self.labels[self.order[seen]]
            self.total_correct += int(np.count_nonzero(self.predicted[seen] == targets))
        self.counted = upto

    def epoch_loss(self) -> float:
        return self.total_loss / self.total_weight if self.per_sample else self.total_loss

    def accuracy(self) -> float:
        return self.total_correct / self.n
