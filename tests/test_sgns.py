"""The SGNS maths of one block, checked against finite differences and a plain loop."""

import numpy as np
import pytest

from sentiment.embeddings.sgns import (
    NOISE_GROUP,
    block_gradients,
    cbow_block_gradients,
    noise_pool_size,
    scatter_add,
    softplus,
)

WINDOW, NEGATIVE, DIM = 3, 2, 4


def _random_block(seed=0, n_tokens=20):
    rng = np.random.default_rng(seed)
    n_groups = -(-n_tokens // NOISE_GROUP)
    pool = noise_pool_size(NEGATIVE, WINDOW)
    return dict(
        input_vectors=rng.normal(size=(n_tokens, DIM)),
        output_vectors=rng.normal(size=(n_tokens, DIM)),
        noise_vectors=rng.normal(size=(n_groups, pool, DIM)),
        sentence=np.repeat([0, 1], [12, n_tokens - 12]),
        windows=rng.integers(1, WINDOW + 1, size=n_tokens),
        window=WINDOW,
        negative=NEGATIVE,
    )


def _loop_loss(block):
    """The loss written as word2vec describes it, one pair at a time."""
    x, y, noise = block["input_vectors"], block["output_vectors"], block["noise_vectors"]
    sentence, windows = block["sentence"], block["windows"]
    n = len(x)
    pool = noise.shape[1]
    loss, pairs_as_input = 0.0, np.zeros(n)
    for centre in range(n):
        for context in range(n):
            if 0 < abs(centre - context) <= windows[centre] and sentence[centre] == sentence[context]:
                loss += np.log1p(np.exp(-x[context] @ y[centre]))  # -log sigmoid(x . y)
                pairs_as_input[context] += 1
    for token in range(n):
        for p in range(pool):
            z = x[token] @ noise[token // NOISE_GROUP, p]
            loss += pairs_as_input[token] * NEGATIVE / pool * np.log1p(np.exp(z))  # -log sigmoid(-z)
    return loss, int(pairs_as_input.sum())


def test_loss_and_pair_count_equal_the_pair_by_pair_definition():
    block = _random_block()
    grads = block_gradients(**block)
    expected_loss, expected_pairs = _loop_loss(block)
    assert grads.pairs == expected_pairs
    assert grads.loss == pytest.approx(expected_loss, rel=1e-10)


@pytest.mark.parametrize("name, grad_field", [
    ("input_vectors", "grad_input"), ("output_vectors", "grad_output"), ("noise_vectors", "grad_noise"),
])  # fmt: skip
def test_gradients_match_finite_differences(name, grad_field):
    block = _random_block(seed=3)
    analytic = getattr(block_gradients(**block), grad_field)
    np.testing.assert_allclose(analytic, _numeric_gradient(block_gradients, block, name), rtol=1e-5, atol=1e-7)


def _numeric_gradient(loss_of, block, name, eps=1e-6):
    """Central differences of ``loss_of(**block).loss`` with respect to ``block[name]``."""
    numeric = np.zeros_like(block[name])
    for index in np.ndindex(block[name].shape):
        original = block[name][index]
        block[name][index] = original + eps
        plus = loss_of(**block).loss
        block[name][index] = original - eps
        minus = loss_of(**block).loss
        block[name][index] = original
        numeric[index] = (plus - minus) / (2 * eps)
    return numeric


def test_pairs_never_cross_sentences():
    block = _random_block()
    block["windows"][:] = WINDOW
    both = block_gradients(**block).pairs

    # Two sentences of 12 and 8 tokens, full windows of 3: sum over tokens of neighbours within 3.
    def neighbours(length):
        return sum(min(i, WINDOW) + min(length - 1 - i, WINDOW) for i in range(length))

    assert both == neighbours(12) + neighbours(8)


def test_scatter_add_sums_repeated_rows_like_a_loop():
    rng = np.random.default_rng(1)
    matrix = rng.normal(size=(6, 3)).astype(np.float32)
    expected = matrix.copy()
    rows = np.array([4, 1, 4, 4, 0])
    values = rng.normal(size=(3, 3)).astype(np.float32)
    sources = np.array([0, 2, 1, 0, 2])
    scale = rng.normal(size=5).astype(np.float32)
    for r, s, c in zip(rows, sources, scale, strict=True):
        expected[r] += c * values[s]
    scatter_add(matrix, rows, values, sources, scale)
    np.testing.assert_allclose(matrix, expected, rtol=1e-6)


def test_softplus_is_stable_at_extremes():
    z = np.array([-1000.0, 0.0, 1000.0], dtype=np.float32)
    assert softplus(z).tolist() == pytest.approx([0.0, np.log(2), 1000.0])


def _cbow_loop(block, cbow_mean=True):
    """CBOW as word2vec.c describes it, one centre at a time: loss and the context-word updates."""
    x, y, noise = block["input_vectors"], block["output_vectors"], block["noise_vectors"]
    sentence, windows = block["sentence"], block["windows"]
    n, pool = len(x), noise.shape[1]
    loss, centres, grad_input = 0.0, 0, np.zeros_like(x)
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    for i in range(n):
        context = [j for j in range(n) if 0 < abs(i - j) <= windows[i] and sentence[i] == sentence[j]]
        if not context:
            continue
        centres += 1
        h = x[context].sum(axis=0) / (len(context) if cbow_mean else 1)
        loss += np.log1p(np.exp(-h @ y[i]))
        grad_h = (sigmoid(h @ y[i]) - 1) * y[i]
        for p in range(pool):
            z = h @ noise[i // NOISE_GROUP, p]
            loss += NEGATIVE / pool * np.log1p(np.exp(z))
            grad_h += NEGATIVE / pool * sigmoid(z) * noise[i // NOISE_GROUP, p]
        grad_input[context] += grad_h  # word2vec.c: every context word gets the whole update
    return loss, centres, grad_input


@pytest.mark.parametrize("cbow_mean", [True, False])
def test_cbow_loss_and_context_updates_equal_the_centre_by_centre_definition(cbow_mean):
    block = _random_block(seed=5)
    grads = cbow_block_gradients(**block, cbow_mean=cbow_mean)
    loss, centres, grad_input = _cbow_loop(block, cbow_mean)
    assert grads.pairs == centres
    assert grads.loss == pytest.approx(loss, rel=1e-10)
    np.testing.assert_allclose(grads.grad_input, grad_input, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name, grad_field", [("output_vectors", "grad_output"), ("noise_vectors", "grad_noise")])
def test_cbow_output_gradients_match_finite_differences(name, grad_field):
    block = _random_block(seed=6)
    analytic = getattr(cbow_block_gradients(**block), grad_field)
    np.testing.assert_allclose(analytic, _numeric_gradient(cbow_block_gradients, block, name), rtol=1e-5, atol=1e-7)
