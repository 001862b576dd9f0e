"""How a block's summed gradients change the weights: SGD, row-wise Adagrad, or sparse ("lazy") Adam.

Gradients come summed per distinct row (``sgns.row_sums``); nothing here
knows about pairs or noise words. Every rule is *sparse*: only the rows a
block touches change, and so does only their optimizer state.

* ``SGD`` is word2vec's rule, ``w -= lr * g``, with the learning rate falling
  linearly from ``alpha`` to ``min_alpha`` over training. No state.
* ``Adagrad`` keeps one accumulator per row (the running sum of the row's
  mean squared gradient), so steps shrink for rows updated often: frequent
  words settle while rare words keep moving. One float per word.
* ``Adam`` is PyTorch's ``SparseAdam``: first and second moments for every
  weight, updated only for the rows of a block, with bias correction from
  each row's *own* step count (a row seen 3 times is corrected as at step 3,
  not at the global step, which would under-correct rare rows). Two float32
  matrices the size of the weights, plus one int32 count per row.

Each rule declares its default learning rate and schedule (``DEFAULT_ALPHA``,
``DEFAULT_MIN_ALPHA``; ``None`` there means constant, ``min_alpha = alpha``),
chosen by measurement (README "Which optimizer?"), and the bytes its state
takes (``state_bytes``), which the trainer's memory check counts.
"""

from __future__ import annotations

import numpy as np

__all__ = ["OPTIMIZERS", "SGD", "Adagrad", "Adam", "make_optimizer"]


class SGD:
    """``w[rows] -= lr * grad``: word2vec's rule, linear decay from ``alpha=0.025`` to ``min_alpha=0.0001``.

    gensim's defaults, and the best of 0.0125, 0.025, 0.05 on the benchmark
    setting by held-out accuracy (README "Which optimizer?"; 0.1 diverged).

    >>> w = np.zeros((2, 2), np.float32)
    >>> SGD(2, 2).step(w, np.array([1]), np.array([[3.0, 4.0]], np.float32), lr=0.5)
    >>> w.tolist()
    [[0.0, 0.0], [-1.5, -2.0]]
    """

    DEFAULT_ALPHA = 0.025  # word2vec's and gensim's
    DEFAULT_MIN_ALPHA: float | None = 0.0001

    def __init__(self, n_rows: int, dim: int):
        pass

    @staticmethod
    def state_bytes(n_rows: int, dim: int) -> int:
        return 0

    def step(self, matrix: np.ndarray, rows: np.ndarray, grad: np.ndarray, lr: float) -> None:
        matrix[rows] -= np.float32(lr) * grad


class Adagrad:
    """Row-wise Adagrad: ``acc[r] += mean(g_r ** 2)``, ``w[r] -= lr * g_r / (sqrt(acc[r]) + eps)``.

    One accumulator per row (not per weight), starting at ``initial`` (0.1, as
    TensorFlow; PyTorch starts at 0, which makes the first step of a row
    ``lr`` times its gradient scaled to unit root mean square, however small
    the gradient). A constant rate: the accumulators already shrink the steps.
    Default ``alpha=0.2``, constant: the best of 0.1, 0.2, 0.4 on the
    benchmark setting by held-out accuracy (0.839) and analogy accuracy
    (13.2%, SGD 11.6%); constant and ``initial=0.1`` measured better than
    linear decay and 0 in a pilot, and per-element accumulators
    (``per_element=True``) no better for ``dim`` times the memory (README
    "Which optimizer?").

    >>> w = np.zeros((2, 2), np.float32); opt = Adagrad(2, 2, initial=0.0)
    >>> opt.step(w, np.array([1]), np.array([[3.0, 4.0]], np.float32), lr=1.0)
    >>> w.astype(float).round(3).tolist()  # g / sqrt(mean(g**2)) = [3, 4] / sqrt(12.5)
    [[0.0, 0.0], [-0.849, -1.131]]
    """

    DEFAULT_ALPHA = 0.2
    DEFAULT_MIN_ALPHA: float | None = None  # constant

    def __init__(self, n_rows: int, dim: int, *, initial: float = 0.1, eps: float = 1e-6, per_element: bool = False):
        # per_element: one accumulator per weight, as textbook Adagrad (measured against row-wise in the README)
        self.accumulator = np.full((n_rows, dim) if per_element else n_rows, initial, dtype=np.float32)
        self.eps = np.float32(eps)
        self.per_element = per_element

    @staticmethod
    def state_bytes(n_rows: int, dim: int) -> int:
        return 4 * n_rows

    def step(self, matrix: np.ndarray, rows: np.ndarray, grad: np.ndarray, lr: float) -> None:
        if self.per_element:
            self.accumulator[rows] += grad * grad
            matrix[rows] -= np.float32(lr) * grad / (np.sqrt(self.accumulator[rows]) + self.eps)
            return
        self.accumulator[rows] += np.mean(grad * grad, axis=1)
        scale = np.float32(lr) / (np.sqrt(self.accumulator[rows]) + self.eps)
        matrix[rows] -= scale[:, None] * grad


class Adam:
    """Sparse ("lazy") Adam, as PyTorch's ``SparseAdam``, with bias correction per row.

    For the rows of a block (``t`` = each row's own step count, after this step)::

        m[r] = b1 m[r] + (1 - b1) g_r          v[r] = b2 v[r] + (1 - b2) g_r ** 2
        w[r] -= lr / (1 - b1 ** t) * m[r] / (sqrt(v[r]) / sqrt(1 - b2 ** t) + eps)

    Rows outside the block keep their weights, moments and counts (lazy: no
    decay of their moments either). The first step of a row is ``lr`` times
    ``g / (|g| + eps)``, about ``lr`` per weight in the gradient's direction.
    State: ``m`` and ``v`` float32 (rows x dim each), ``steps`` int32 (rows).
    Default ``alpha=0.03``, linear decay to ``min_alpha=0.0001`` as SGD (a
    constant rate measured worse): of 0.01, 0.03, 0.05 on the benchmark
    setting, 0.03 gave the best vectors (12.8% analogy, SGD 11.6%) at a
    held-out accuracy 0.0025 below 0.01's, well inside the spread between
    repeats (README "Which optimizer?").

    >>> w = np.zeros((2, 2), np.float32); opt = Adam(2, 2)
    >>> opt.step(w, np.array([1]), np.array([[3.0, -4.0]], np.float32), lr=0.1)
    >>> w.astype(float).round(4).tolist(), opt.steps.tolist()  # first step: lr * sign(g)
    ([[0.0, 0.0], [-0.1, 0.1]], [0, 1])
    """

    DEFAULT_ALPHA = 0.03
    DEFAULT_MIN_ALPHA: float | None = 0.0001

    def __init__(self, n_rows: int, dim: int, *, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.m = np.zeros((n_rows, dim), dtype=np.float32)
        self.v = np.zeros((n_rows, dim), dtype=np.float32)
        self.steps = np.zeros(n_rows, dtype=np.int32)
        self.beta1, self.beta2, self.eps = beta1, beta2, np.float32(eps)

    @staticmethod
    def state_bytes(n_rows: int, dim: int) -> int:
        return 2 * 4 * n_rows * dim + 4 * n_rows

    def step(self, matrix: np.ndarray, rows: np.ndarray, grad: np.ndarray, lr: float) -> None:
        t = self.steps[rows] + 1
        self.steps[rows] = t
        m = self.m[rows]
        m *= np.float32(self.beta1)
        m += np.float32(1 - self.beta1) * grad
        self.m[rows] = m
        v = self.v[rows]
        v *= np.float32(self.beta2)
        v += np.float32(1 - self.beta2) * (grad * grad)
        self.v[rows] = v
        # Corrections in float64 (1 - 0.999 ** t loses digits in float32 for small t), applied as float32 columns.
        step_size = (lr / (1 - self.beta1**t)).astype(np.float32)[:, None]
        root_correction = np.sqrt(1 - self.beta2**t).astype(np.float32)[:, None]
        np.sqrt(v, out=v)
        v /= root_correction
        v += self.eps
        m /= v
        m *= step_size
        matrix[rows] -= m


OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "adam": Adam}


def make_optimizer(name: str, n_rows: int, dim: int):
    return OPTIMIZERS[name](n_rows, dim)
