"""Skip-gram and CBOW with negative sampling: loss and gradients of one block of tokens, in NumPy.

A *block* is a run of whole sentences, already subsampled, as word indices,
with the sentence each token belongs to (``sentence``) and the reduced window
drawn for each token as a centre (``windows``, in 1..window). Following
word2vec.c and gensim, a pair (centre ``i``, context ``j``) with
``0 < |i - j| <= windows[i]`` inside one sentence trains, in skip-gram, the
context's *input* vector to predict the centre's *output* vector against
``negative`` noise words; in CBOW, the mean of all the centre's context input
vectors predicts it.

How it is vectorised (no Python loop over pairs):

* pairs: for each offset ``d`` in -window..window the slots ``(j, j + d)`` are
  two shifted slices of the block, so their scores are one row-wise dot
  product (``einsum('ij,ij->i')``) per offset; which slots are pairs is a
  boolean mask, and the per-pair coefficients form one banded sparse matrix,
  so both gradients are two sparse-dense products;
* negatives: ``NOISE_GROUP`` neighbouring tokens share one pool of noise words
  and meet all of them in one batched matrix product, each term weighted so
  that the expected gradient is word2vec's (``negative`` fresh draws per pair);
* everything is computed from the block's starting weights; ``row_sums`` then
  adds up the gradients of repeated rows for one update per matrix;
* the output-side gradients (tokens, then noise words) are written into one
  array (``BlockGradients.grad_outputs``), which the update reads as it is,
  and the pairs' gradient is added into the noise words' rather than into a
  new array: a block holds about ten vectors a token at its peak (sixteen
  before), and a worker process's memory is what its biggest block holds.

The loss is the true negative-sampling loss of the block,
``softplus(-x·y_pos) + sum_k softplus(x·y_noise_k)`` summed over pairs (the
noise term weighted as above), accumulated in float64.

This module holds only the maths; vocabulary, sampling and the epoch loop live
in ``word2vec.py``, the update rules in ``optimizers.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.special import expit

try:  # the kernels behind ``csr_matrix @ dense``, called without building a matrix object (see _sparse_product)
    from scipy.sparse._sparsetools import csc_matvecs as _csc_matvecs
    from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
except ImportError:  # pragma: no cover - a scipy without them: build the matrices instead
    _csc_matvecs = _csr_matvecs = None

__all__ = [
    "NOISE_GROUP",
    "BlockGradients",
    "block_gradients",
    "cbow_block_gradients",
    "noise_pool_size",
    "pair_gradients",
    "row_sums",
    "scatter_add",
    "softplus",
]

# Neighbouring tokens that share one pool of noise words (see the module docstring).
NOISE_GROUP = 16
_UINT16_MAX = np.iinfo(np.uint16).max
_INT32_MAX = np.iinfo(np.int32).max


def softplus(z: np.ndarray) -> np.ndarray:
    """``log(1 + exp(z))`` without overflow: the loss ``-log sigmoid(-z)``."""
    return np.logaddexp(np.float32(0.0), z)


def row_sums(
    rows: np.ndarray, values: np.ndarray, sources: np.ndarray, scale: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows and, for each, the sum of ``scale[i] * values[sources[i]]`` over ``rows[i] == row``.

    Plain fancy-index ``+=`` keeps only the last of repeated rows and
    ``np.add.at`` is slow on rows, so the sums are one sparse-matrix product:
    sort ``rows`` once (stably, so results are bit-identical run to run), let
    each distinct row be one CSR row whose entries pick and scale ``values``.
    Rows that fit 16 bits are sorted as such (a radix sort, about 10x faster
    than sorting 64-bit indices, same order).

    >>> v = np.array([[1.0], [10.0]])
    >>> distinct, sums = row_sums(np.array([2, 0, 2]), v, np.array([0, 0, 1]), np.ones(3))
    >>> distinct.tolist(), sums.ravel().tolist()
    ([0, 2], [1.0, 11.0])
    """
    keys = rows.astype(np.uint16) if rows.size and rows.max() <= _UINT16_MAX else rows
    order = np.argsort(keys, kind="stable")
    sorted_rows = rows[order]
    starts = np.empty(rows.size + 1, dtype=bool)
    starts[0] = starts[-1] = True
    np.not_equal(sorted_rows[1:], sorted_rows[:-1], out=starts[1:-1])
    indptr = np.flatnonzero(starts)  # run starts, then rows.size
    sums = _sparse_product(indptr, sources[order], scale[order], values, indptr.size - 1, values.shape[0])
    return sorted_rows[indptr[:-1]], sums


def _sparse_product(indptr, indices, data, dense, n_rows, n_columns, *, transpose=False, out=None) -> np.ndarray:
    """``A @ dense`` (``A.T @ dense`` with ``transpose``) for the CSR matrix ``A = (data, indices, indptr)``.

    The same scipy kernel and arithmetic as ``csr_matrix(...) @ dense``, without
    building the matrix object: its checks run in Python and hold the GIL,
    and they cost as much as the product on a block. The kernel adds into its
    result and releases the GIL: into zeros, or into ``out`` (C-contiguous,
    of the result's shape and dtype), which is returned.
    """
    dtype = np.result_type(data, dense)
    data = data.astype(dtype, copy=False)
    dense = np.ascontiguousarray(dense, dtype=dtype)
    if _csr_matvecs is None:  # pragma: no cover
        matrix = csr_matrix((data, indices, indptr), shape=(n_rows, n_columns))
        product = (matrix.T if transpose else matrix) @ dense
        if out is None:
            return product
        out += product
        return out
    index_dtype = np.int32 if max(indptr[-1], n_rows, n_columns) < _INT32_MAX else np.int64
    indptr = indptr.astype(index_dtype, copy=False)
    indices = indices.astype(index_dtype, copy=False)
    n_vectors = dense.shape[1]
    shape = (n_columns if transpose else n_rows, n_vectors)
    if out is None:
        result = np.zeros(shape, dtype=dtype)
    else:
        if out.shape != shape or out.dtype != dtype or not out.flags.c_contiguous:
            raise ValueError(f"out must be C-contiguous {dtype} of shape {shape}")  # else its ravel() is a copy
        result = out
    if transpose:
        _csc_matvecs(n_columns, n_rows, n_vectors, indptr, indices, data, dense.ravel(), result.ravel())
    else:
        _csr_matvecs(n_rows, n_columns, n_vectors, indptr, indices, data, dense.ravel(), result.ravel())
    return result


def scatter_add(
    matrix: np.ndarray, rows: np.ndarray, values: np.ndarray, sources: np.ndarray, scale: np.ndarray
) -> None:
    """``matrix[rows[i]] += scale[i] * values[sources[i]]`` for every ``i``, summing repeated rows.

    >>> m = np.zeros((3, 1)); v = np.array([[1.0], [10.0]])
    >>> scatter_add(m, np.array([2, 0, 2]), v, np.array([0, 0, 1]), np.ones(3))
    >>> m.ravel().tolist()
    [1.0, 0.0, 11.0]
    """
    if rows.size:
        distinct, sums = row_sums(rows, values, sources, scale)
        matrix[distinct] += sums


@dataclass
class BlockGradients:
    """Loss and gradients of one block, before the learning rate is applied."""

    loss: float  # summed over pairs (float64)
    pairs: int  # number of (centre, context) pairs trained
    grad_input: np.ndarray  # (n_tokens, dim): d loss / d input vector of each token
    grad_output: np.ndarray  # (n_tokens, dim): d loss / d output vector of each token
    grad_noise: np.ndarray  # (n_groups, pool, dim): d loss / d output vector of each noise word
    # (n_tokens + n_groups * pool, dim): grad_output's rows then grad_noise's, the same memory (the output
    # update's rows in the order of ``concatenate((tokens, noise.ravel()))``, without copying them there)
    grad_outputs: np.ndarray


def _output_gradients(n_tokens: int, noise_vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``grad_outputs`` (zeros) and its two parts: the tokens' rows, the noise words' rows by group."""
    n_groups, pool, dim = noise_vectors.shape
    stacked = np.zeros((n_tokens + n_groups * pool, dim), dtype=noise_vectors.dtype)
    return stacked, stacked[:n_tokens], stacked[n_tokens:].reshape(n_groups, pool, dim)


def block_gradients(
    input_vectors: np.ndarray,
    output_vectors: np.ndarray,
    noise_vectors: np.ndarray,
    sentence: np.ndarray,
    windows: np.ndarray,
    window: int,
    negative: int,
) -> BlockGradients:
    """Skip-gram: SGNS loss and gradients for one block, given the rows it touches.

    ``input_vectors[i]`` and ``output_vectors[i]`` are the input and output
    vectors of token ``i``. Tokens go in groups of ``NOISE_GROUP`` neighbours;
    ``noise_vectors[g]`` holds the output vectors of the noise words drawn
    for group ``g`` (``n_groups = ceil(n_tokens / NOISE_GROUP)``). Pure:
    nothing is modified.
    """
    deltas = _offsets(window)
    n_tokens = sentence.shape[0]
    valid = _pair_mask(sentence, windows, deltas)
    scores = _pair_scores(input_vectors, output_vectors, deltas)
    # d softplus(-s) / ds = sigmoid(s) - 1; slots that are not pairs get 0.
    coef = (expit(scores) - 1) * valid
    loss = float(softplus(-scores).sum(where=valid, dtype=np.float64))
    band = _band(coef, deltas)  # row j (context) holds coef[j, k] at column j + deltas[k] (centre)
    grad_outputs, grad_output, grad_noise = _output_gradients(n_tokens, noise_vectors)
    _sparse_product(*band, input_vectors, n_tokens, n_tokens, transpose=True, out=grad_output)
    # Each token meets `negative` noise words per pair it is the input (context) of.
    pairs_as_input = valid.sum(axis=1, dtype=input_vectors.dtype)
    noise_loss, grad_input = _noise_terms(input_vectors, pairs_as_input * negative, noise_vectors, out=grad_noise)
    _sparse_product(*band, output_vectors, n_tokens, n_tokens, out=grad_input)  # the pairs' part, added
    return BlockGradients(
        loss + noise_loss, int(pairs_as_input.sum()), grad_input, grad_output, grad_noise, grad_outputs
    )


def cbow_block_gradients(
    input_vectors: np.ndarray,
    output_vectors: np.ndarray,
    noise_vectors: np.ndarray,
    sentence: np.ndarray,
    windows: np.ndarray,
    window: int,
    negative: int,
    cbow_mean: bool = True,
) -> BlockGradients:
    """CBOW: the mean (or sum) ``h`` of a centre's context input vectors predicts the centre.

    Arguments as ``block_gradients``. ``loss``, ``grad_output`` and
    ``grad_noise`` are the true loss and gradients; ``grad_input`` follows
    word2vec.c and gensim: every context word receives the whole gradient with
    respect to ``h`` (not divided by the number of context words). ``pairs``
    counts the centres that have at least one context word.
    """
    deltas = _offsets(window)
    n_tokens = sentence.shape[0]
    valid = _pair_mask(sentence, windows, deltas)
    membership = _band(valid.astype(input_vectors.dtype), deltas)  # [context j, centre i] = 1
    _, columns, ones = membership
    contexts = np.bincount(columns, weights=ones, minlength=n_tokens).astype(input_vectors.dtype)
    has_context = contexts > 0
    hidden = _sparse_product(*membership, input_vectors, n_tokens, n_tokens, transpose=True)
    if cbow_mean:
        hidden /= np.maximum(contexts, 1)[:, None]
    scores = np.einsum("ij,ij->i", hidden, output_vectors)
    coef = (expit(scores) - 1) * has_context
    loss = float(softplus(-scores).sum(where=has_context, dtype=np.float64))
    grad_outputs, grad_output, grad_noise = _output_gradients(n_tokens, noise_vectors)
    np.multiply(coef[:, None], hidden, out=grad_output)
    noise_per_row = has_context * np.float32(negative)
    noise_loss, grad_hidden = _noise_terms(hidden, noise_per_row, noise_vectors, out=grad_noise)
    grad_hidden += coef[:, None] * output_vectors
    grad_input = _sparse_product(*membership, grad_hidden, n_tokens, n_tokens)
    return BlockGradients(loss + noise_loss, int(has_context.sum()), grad_input, grad_output, grad_noise, grad_outputs)


def _offsets(window: int) -> np.ndarray:
    return np.array([d for d in range(-window, window + 1) if d != 0])


def _band(values: np.ndarray, deltas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays ``(indptr, columns, data)`` of the (n, n) matrix with ``values[j, k]`` at ``(j, j + deltas[k])``.

    Slots that fall outside the block are clipped onto an edge column; their
    values are zero wherever they are not pairs, so they add nothing.
    """
    n_tokens = values.shape[0]
    columns = np.clip(np.arange(n_tokens)[:, None] + deltas, 0, n_tokens - 1)
    return np.arange(0, values.size + 1, len(deltas)), columns.ravel(), values.ravel()


def _noise_terms(vectors: np.ndarray, noise_per_row: np.ndarray, noise_vectors: np.ndarray, *, out, with_loss=True):
    """Loss and gradient for ``vectors`` of the negative terms; their gradient for ``noise_vectors`` into ``out``.

    Every row of a group meets every noise word of its pool, each weighted
    ``noise_per_row / pool``: in expectation, ``noise_per_row`` independent
    draws, which is what word2vec makes. ``out`` has ``noise_vectors``'s shape.
    """
    n_rows, dim = vectors.shape
    n_groups, pool, _ = noise_vectors.shape
    padded = n_groups * NOISE_GROUP
    grouped = _pad_rows(vectors, padded).reshape(n_groups, NOISE_GROUP, dim)
    weight = _pad_rows(noise_per_row.astype(vectors.dtype) / np.float32(pool), padded).reshape(n_groups, NOISE_GROUP, 1)
    noise_scores = grouped @ noise_vectors.transpose(0, 2, 1)  # (n_groups, NOISE_GROUP, pool)
    loss = float((softplus(noise_scores) * weight).sum(dtype=np.float64)) if with_loss else 0.0
    noise_coef = expit(noise_scores) * weight  # d softplus(z) / dz = sigmoid(z)
    grad_vectors = (noise_coef @ noise_vectors).reshape(padded, dim)[:n_rows]
    np.matmul(noise_coef.transpose(0, 2, 1), grouped, out=out)
    return loss, grad_vectors


def noise_pool_size(negative: int, window: int) -> int:
    """Noise words per group: about what word2vec draws for one token, ``negative`` per pair.

    A token is the context of ``window + 1`` pairs on average (reduced
    windows average ``(window + 1) / 2`` on each side).

    >>> noise_pool_size(5, 5)
    30
    """
    return negative * (window + 1)


def _pad_rows(array: np.ndarray, rows: int) -> np.ndarray:
    if array.shape[0] == rows:
        return array
    padded = np.zeros((rows, *array.shape[1:]), dtype=array.dtype)
    padded[: array.shape[0]] = array
    return padded


def _pair_mask(sentence: np.ndarray, windows: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    """``valid[j, k]``: is (context ``j``, centre ``j + deltas[k]``) a pair?

    It is when the centre is in the block and in ``j``'s sentence, and
    ``|deltas[k]|`` is within the reduced window drawn for the centre. Four
    whole-block operations on padded copies (a centre outside the block has
    window 0, so it never pairs), not a few per offset: small operations hold
    the GIL that worker threads share.
    """
    n_tokens = sentence.shape[0]
    reach = int(np.abs(deltas).max())
    padded_sentence = np.zeros(n_tokens + 2 * reach, dtype=sentence.dtype)
    padded_sentence[reach : reach + n_tokens] = sentence
    padded_windows = np.zeros(n_tokens + 2 * reach, dtype=windows.dtype)
    padded_windows[reach : reach + n_tokens] = windows
    centres = np.arange(n_tokens)[:, None] + (deltas + reach)  # index of centre j + deltas[k] in the padded copies
    return (padded_sentence[centres] == sentence[:, None]) & (padded_windows[centres] >= np.abs(deltas))


def _pair_scores(inputs, outputs, deltas) -> np.ndarray:
    """``inputs[j] . outputs[j + d]`` for every token ``j`` and offset ``d`` (0 outside the block).

    One row-wise dot product per offset, over two shifted slices of the block.
    """
    n_tokens = inputs.shape[0]
    scores = np.zeros((n_tokens, len(deltas)), dtype=inputs.dtype)
    for k, delta in enumerate(deltas):
        d = abs(int(delta))
        if d >= n_tokens:
            continue
        context, centre = (slice(None, -d), slice(d, None)) if delta > 0 else (slice(d, None), slice(None, -d))
        np.einsum("ij,ij->i", inputs[context], outputs[centre], out=scores[context, k])
    return scores


def pair_gradients(
    input_vectors: np.ndarray, output_vectors: np.ndarray, noise_vectors: np.ndarray, negative: int, loss: bool = True
):
    """Negative sampling for explicit pairs: ``input_vectors[i]`` predicts ``output_vectors[i]``.

    PV-DBOW's pairs (a document's vector predicts each of its words) are not
    windows over a sentence, so they come as two aligned row arrays; the noise
    pools work as in ``block_gradients`` (``NOISE_GROUP`` neighbouring pairs
    share ``noise_vectors[g]``; each pair meets ``negative`` noise words in
    expectation). Returns a ``BlockGradients``; pure. ``loss=False`` skips the
    loss (NaN), which costs as much as the gradients' exponentials.

    >>> x = np.ones((2, 2), np.float32); y = np.zeros((2, 2), np.float32); noise = np.zeros((1, 3, 2), np.float32)
    >>> g = pair_gradients(x, y, noise, negative=1)
    >>> round(g.loss, 4), g.pairs, g.grad_input.tolist()  # 2 pairs x (log 2 + 1 x log 2): scores are all 0
    (2.7726, 2, [[0.0, 0.0], [0.0, 0.0]])
    """
    scores = np.einsum("ij,ij->i", input_vectors, output_vectors)
    coef = expit(scores) - 1  # d softplus(-s) / ds
    noise_per_pair = np.full(input_vectors.shape[0], negative, dtype=input_vectors.dtype)
    grad_outputs, grad_output, grad_noise = _output_gradients(input_vectors.shape[0], noise_vectors)
    noise_loss, grad_input = _noise_terms(input_vectors, noise_per_pair, noise_vectors, out=grad_noise, with_loss=loss)
    grad_input += coef[:, None] * output_vectors
    np.multiply(coef[:, None], input_vectors, out=grad_output)
    total = float(softplus(-scores).sum(dtype=np.float64)) + noise_loss if loss else float("nan")
    return BlockGradients(total, int(input_vectors.shape[0]), grad_input, grad_output, grad_noise, grad_outputs)
