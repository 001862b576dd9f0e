"""SGNS update rules: each optimizer's step on one row against a hand computation, lazy state, memory, training."""

import numpy as np
import pytest

from sentiment.embeddings.optimizers import OPTIMIZERS, SGD, Adagrad, Adam
from sentiment.embeddings.params import learning_rates
from sentiment.embeddings.word2vec import Word2Vec
from sentiment.errors import TrainingError


def test_sgd_step_is_lr_times_gradient():
    w = np.ones((3, 2), np.float32)
    SGD(3, 2).step(w, np.array([2]), np.array([[0.5, -1.0]], np.float32), lr=0.1)
    np.testing.assert_allclose(w, [[1, 1], [1, 1], [0.95, 1.1]], rtol=1e-6)


def test_adagrad_steps_against_hand_computation():
    w = np.zeros((3, 2), np.float32)
    opt = Adagrad(3, 2)
    g1, g2 = np.array([3.0, 4.0]), np.array([1.0, -1.0])
    opt.step(w, np.array([1]), g1[None].astype(np.float32), lr=0.5)
    acc = 0.1 + np.mean(g1**2)  # the initial 0.1, then 12.5
    expected = -0.5 * g1 / (np.sqrt(acc) + 1e-6)
    np.testing.assert_allclose(w[1], expected, rtol=1e-5)
    opt.step(w, np.array([1]), g2[None].astype(np.float32), lr=0.5)
    acc += np.mean(g2**2)  # 13.6: the second step is smaller for the same size of gradient
    expected = expected - 0.5 * g2 / (np.sqrt(acc) + 1e-6)
    np.testing.assert_allclose(w[1], expected, rtol=1e-5)
    np.testing.assert_allclose(opt.accumulator, [0.1, 13.6, 0.1], rtol=1e-6)


def test_adam_steps_against_hand_computation_with_per_row_bias_correction():
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.01
    w = np.full((3, 2), 0.5, np.float32)
    opt = Adam(3, 2)
    g1, g2 = np.array([0.2, -0.4]), np.array([-0.1, 0.3])
    # Step 1 of row 0: m = 0.1 g, v = 0.001 g^2, corrected back to g and g^2: a step of lr * g / (|g| + eps).
    opt.step(w, np.array([0]), g1[None].astype(np.float32), lr=lr)
    np.testing.assert_allclose(w[0], 0.5 - lr * g1 / (np.abs(g1) + eps), rtol=1e-6)
    m, v = (1 - b1) * g1, (1 - b2) * g1**2
    np.testing.assert_allclose(opt.m[0], m, rtol=1e-6)
    np.testing.assert_allclose(opt.v[0], v, rtol=1e-6)
    # Row 2's first step comes after row 0's first: it is corrected as step 1 too (its own count), not step 2.
    opt.step(w, np.array([0, 2]), np.stack([g2, g1]).astype(np.float32), lr=lr)
    m, v = b1 * m + (1 - b1) * g2, b2 * v + (1 - b2) * g2**2
    step = lr / (1 - b1**2) * m / (np.sqrt(v) / np.sqrt(1 - b2**2) + eps)
    np.testing.assert_allclose(w[0], 0.5 - lr * g1 / (np.abs(g1) + eps) - step, rtol=1e-5)
    np.testing.assert_allclose(w[2], 0.5 - lr * g1 / (np.abs(g1) + eps), rtol=1e-6)
    assert opt.steps.tolist() == [2, 0, 1]


def test_rows_outside_a_block_keep_weights_and_optimizer_state():
    rng = np.random.default_rng(0)
    for name, rule in OPTIMIZERS.items():
        opt = rule(6, 4)
        w = rng.normal(size=(6, 4)).astype(np.float32)
        opt.step(w, np.array([0, 1, 2, 3, 4, 5]), rng.normal(size=(6, 4)).astype(np.float32), lr=0.1)
        before_w = w.copy()
        before_state = {k: v.copy() for k, v in vars(opt).items() if isinstance(v, np.ndarray)}
        opt.step(w, np.array([1, 4]), rng.normal(size=(2, 4)).astype(np.float32), lr=0.1)
        untouched = [0, 2, 3, 5]
        np.testing.assert_array_equal(w[untouched], before_w[untouched], err_msg=name)
        assert not np.array_equal(w[[1, 4]], before_w[[1, 4]]), name
        for key, value in before_state.items():
            np.testing.assert_array_equal(getattr(opt, key)[untouched], value[untouched], err_msg=f"{name}.{key}")
            assert not np.array_equal(getattr(opt, key)[[1, 4]], value[[1, 4]]), f"{name}.{key}"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sgd", {}),
        ("adagrad", {"accumulator": ((7,), np.float32)}),
        ("adam", {"m": ((7, 5), np.float32), "v": ((7, 5), np.float32), "steps": ((7,), np.int32)}),
    ],
)
def test_state_arrays_are_as_documented_and_counted_by_state_bytes(name, expected):
    opt = OPTIMIZERS[name](7, 5)
    arrays = {k: v for k, v in vars(opt).items() if isinstance(v, np.ndarray)}
    assert {k: (v.shape, v.dtype) for k, v in arrays.items()} == expected
    assert OPTIMIZERS[name].state_bytes(7, 5) == sum(v.nbytes for v in arrays.values())


def test_memory_check_counts_optimizer_state(monkeypatch):
    # 10,000 words x 100 dimensions: weights 8 MB; Adam adds 16 MB of moments (and 80 KB of counts).
    free_pages = {"SC_AVPHYS_PAGES": (8_000_000 + 2 * Adam.state_bytes(10_000, 100)) // 4096 - 10, "SC_PAGE_SIZE": 4096}
    monkeypatch.setattr("os.sysconf", lambda name: free_pages[name])
    # Fits without state at 80% of that; Adam's state makes it too big.
    Word2Vec(vector_size=100, optimizer="sgd")._check_memory(10_000)
    with pytest.raises(TrainingError, match="adam state"):
        Word2Vec(vector_size=100, optimizer="adam")._check_memory(10_000)


def test_each_optimizer_has_its_own_default_learning_rate_and_alpha_overrides():
    for name, rule in OPTIMIZERS.items():
        assert learning_rates({"optimizer": name})["alpha"] == rule.DEFAULT_ALPHA
        final = 0.2 if rule.DEFAULT_MIN_ALPHA is None else 0.0001  # constant, or linear decay to 0.0001
        assert learning_rates({"optimizer": name, "alpha": 0.2}) == {"alpha": 0.2, "min_alpha": final}
        assert learning_rates({"optimizer": name, "alpha": 0.2, "min_alpha": 0.01})["min_alpha"] == 0.01
    assert learning_rates({"optimizer": "sgd"}) == {"alpha": 0.025, "min_alpha": 0.0001}  # gensim's
    assert learning_rates({"optimizer": "adagrad"}) == {"alpha": 0.2, "min_alpha": 0.2}
    assert Word2Vec().get_params()["alpha"] is None


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_each_optimizer_lowers_the_loss_epoch_after_epoch_on_real_text(name, imdb_unsup_tokens):
    model = Word2Vec(vector_size=30, epochs=3, optimizer=name, seed=0).fit(imdb_unsup_tokens[:800])
    first, second, third = model.loss_history_
    assert third < second < first < (1 + 5) * np.log(2)  # below all-zero vectors' loss, and still falling
    assert model.alpha_ == OPTIMIZERS[name].DEFAULT_ALPHA


def test_adam_state_is_shared_with_worker_processes(imdb_unsup_tokens):
    model = Word2Vec(vector_size=20, epochs=2, optimizer="adam", workers=2, seed=0).fit(imdb_unsup_tokens[:400])
    assert np.isfinite(model.wv.vectors).all()
    assert model.loss_history_[1] < model.loss_history_[0]
    # The moments were written by the workers into the shared pages this process sees.
    assert model._input_optimizer.steps.sum() > 0 and np.abs(model._output_optimizer.m).sum() > 0
