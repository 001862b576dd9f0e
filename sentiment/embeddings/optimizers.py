"""How a block's summed gradients change the weights: plain SGD, or row-wise Adagrad.

``SGD`` is word2vec's rule, ``w -= lr * g`` with the learning rate falling
linearly over training. ``Adagrad`` is its sparse, row-wise variant: each
row keeps one accumulator (the running sum of its mean squared gradient), and
steps shrink for rows that have been updated often, so frequent words settle
while rare words keep moving. One scalar per row (not per weight) keeps the
memory cost at one float per word. Gradients come summed per distinct row
(``sgns.row_sums``); nothing here knows about pairs or noise words.
"""

from __future__ import annotations

import numpy as np

__all__ = ["OPTIMIZERS", "SGD", "Adagrad", "make_optimizer"]


class SGD:
    """``w[rows] -= lr * grad``."""

    def __init__(self, n_rows: int):
        pass

    def step(self, matrix: np.ndarray, rows: np.ndarray, grad: np.ndarray, lr: float) -> None:
        matrix[rows] -= np.float32(lr) * grad


class Adagrad:
    """Row-wise Adagrad: ``acc[r] += mean(g_r ** 2)``, ``w[r] -= lr * g_r / (sqrt(acc[r]) + eps)``.

    >>> w = np.zeros((2, 2), np.float32); opt = Adagrad(2)
    >>> opt.step(w, np.array([1]), np.array([[3.0, 4.0]], np.float32), lr=1.0)
    >>> w.astype(float).round(3).tolist()  # g / sqrt(mean(g**2)) = [3, 4] / sqrt(12.5)
    [[0.0, 0.0], [-0.849, -1.131]]
    """

    def __init__(self, n_rows: int, eps: float = 1e-6):
        self.accumulator = np.zeros(n_rows, dtype=np.float32)
        self.eps = np.float32(eps)

    def step(self, matrix: np.ndarray, rows: np.ndarray, grad: np.ndarray, lr: float) -> None:
        self.accumulator[rows] += np.mean(grad * grad, axis=1)
        scale = np.float32(lr) / (np.sqrt(self.accumulator[rows]) + self.eps)
        matrix[rows] -= scale[:, None] * grad


OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad}


def make_optimizer(name: str, n_rows: int):
    return OPTIMIZERS[name](n_rows)
