"""The HTTP service through FastAPI's TestClient: every endpoint, every error status, the key, the limits."""

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from helpers import as_at_a_terminal, interrupt, wait_until_ready
from typer.testing import CliRunner

from sentiment import SentimentModel, load_reviews, train
from sentiment.cli import app as cli
from sentiment.model import FORMAT_VERSION
from sentiment.serve.app import create_app, predict_payload
from sentiment.serve.schemas import MAX_BODY_BYTES, MAX_TEXTS

runner = CliRunner()
KEY = "s3cret-test-key-0123"


@pytest.fixture(scope="module")
def model_dir(shared_data, tmp_path_factory):
    reviews = load_reviews(shared_data / "uci" / "yelp_labelled.txt")
    path = tmp_path_factory.mktemp("models") / "yelp"
    train(reviews, word2vec={"vector_size": 16, "min_count": 2, "epochs": 2}, seed=0).model.save(path)
    return path


@pytest.fixture(scope="module")
def model(model_dir):
    return SentimentModel.load(model_dir)


@pytest.fixture(scope="module")
def client(model):
    with TestClient(create_app(model)) as c:
        yield c


@pytest.fixture(scope="module")
def keyed(model):
    with TestClient(create_app(model, api_key=KEY)) as c:
        yield c


def _error(response, status, *fragments):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and body["error"]["status"] == status
    assert "Traceback" not in response.text
    for fragment in fragments:
        assert fragment in body["error"]["message"]
    return body["error"]


def _body_of_size(size: int) -> bytes:
    """A valid predict request whose JSON body is exactly ``size`` bytes."""
    empty = json.dumps({"texts": [""]}).encode()
    return json.dumps({"texts": ["a" * (size - len(empty))]}).encode()


# ------------------------------------------------------------------ endpoints


def test_predict_labels_every_text_with_every_class(client, model):
    texts = ["the food was great", "", "zzqx qqqz", "cold and bland, awful service"]
    response = client.post("/v1/predict", json={"texts": texts})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pipeline"] == "embeddings" and body["baseline_pipeline"] is None
    predictions = body["predictions"]
    assert [p["note"] for p in predictions] == [None, "empty text", "no known word", None]
    assert predictions[1]["label"] is None and predictions[1]["probabilities"] is None
    proba = model.predict_proba([texts[0], texts[2], texts[3]])
    for p, expected in zip([predictions[0], predictions[2], predictions[3]], proba, strict=True):
        assert list(p["probabilities"]) == ["negative", "positive"]
        assert np.allclose(list(p["probabilities"].values()), expected)
        assert p["label"] == model.classes_[expected.argmax()] and p["probability"] == pytest.approx(expected.max())
        assert "baseline" not in p or p["baseline"] is None


def test_predict_with_the_baseline(client, model):
    response = client.post("/v1/predict", json={"texts": ["tasty and fresh", "  "], "baseline": True})
    body = response.json()
    assert body["baseline_pipeline"] == "onehot"
    first, blank = body["predictions"]
    expected = model.predict_proba(["tasty and fresh"], "onehot")[0]
    assert first["baseline"]["probability"] == pytest.approx(expected.max())
    assert blank["note"] == "empty text" and blank["baseline"]["label"] is None


def test_explain_adds_up(client, model):
    text = "Great food but RUDE staff!"
    response = client.post("/v1/explain", json={"text": text})
    assert response.status_code == 200, response.text
    body = response.json()
    logit = model.pipelines["embeddings"].decision_function([text])[0]
    assert sum(t["contribution"] for t in body["tokens"]) + body["constant"] == pytest.approx(logit, abs=1e-5)
    assert [text[t["start"] : t["end"]] for t in body["tokens"]] == ["Great", "food", "but", "RUDE", "staff", "!"]
    onehot = client.post("/v1/explain", json={"text": text, "pipeline": "onehot"}).json()
    assert onehot["pipeline"] == "onehot"
    assert onehot["logit"] == pytest.approx(model.pipelines["onehot"].decision_function([text])[0])


def test_model_facts(client, model):
    body = client.get("/v1/model").json()
    assert body["format_version"] == FORMAT_VERSION and body["primary"] == "embeddings" and body["baseline"] == "onehot"
    assert body["classes"] == ["negative", "positive"]
    assert body["metrics"]["onehot"]["accuracy"] == pytest.approx(model.meta["metrics"]["onehot"]["accuracy"])
    assert body["data"]["train_rows"] == 800 and body["parameters"]["word2vec"]["vector_size"] == 16
    assert body["limits"] == {"max_texts": MAX_TEXTS, "max_body_bytes": MAX_BODY_BYTES}


def test_health_readiness_docs_and_page(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "auth": False}
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/predict", "/v1/explain", "/v1/model", "/healthz", "/readyz"} <= set(paths)
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<label for="text">' in page.text and "http" not in page.text.replace('href="/docs"', "")  # no CDN
    for asset in ("/static/app.js", "/static/style.css"):
        response = client.get(asset)
        assert response.status_code == 200 and "http://" not in response.text and "https://" not in response.text


def test_readyz_without_a_model(model):
    application = create_app(model)
    application.state.model = None
    with TestClient(application) as c:
        _error(c.get("/readyz"), 503, "not loaded")


# ------------------------------------------------------------------ malformed: 422, never 500


@pytest.mark.parametrize(
    "path, body",
    [
        ("/v1/predict", b"{not json"),
        ("/v1/predict", b""),
        ("/v1/predict", b"[]"),
        ("/v1/predict", b'{"texts": "one string"}'),
        ("/v1/predict", b'{"texts": [1, 2]}'),
        ("/v1/predict", b'{"texts": [null]}'),
        ("/v1/predict", b'{"texts": []}'),
        ("/v1/predict", b'{"text": ["a"]}'),
        ("/v1/predict", b'{"texts": ["a"], "extra": 1}'),
        ("/v1/predict", b'{"texts": ["a"], "baseline": "yes"}'),
        ("/v1/predict", b'\xff\xfe{"texts"'),
        ("/v1/explain", b'{"texts": ["a"]}'),
        ("/v1/explain", b'{"text": 5}'),
        ("/v1/explain", b'{"text": "a", "pipeline": "tfidf"}'),
    ],
)
def test_malformed_bodies_are_422(client, path, body):
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    error = _error(response, 422, "malformed request")
    assert error["details"]


def test_a_body_that_is_not_json_says_so(client):
    _error(client.post("/v1/predict", content=b"texts=a"), 422, "Content-Type: application/json")


def test_wrong_method_and_path_are_json(client):
    _error(client.get("/v1/predict"), 405)
    _error(client.get("/v2/predict"), 404)


def test_an_unexpected_failure_is_a_plain_500(model, monkeypatch):
    with TestClient(create_app(model), raise_server_exceptions=False) as c:
        monkeypatch.setattr(SentimentModel, "predict_proba", lambda *a, **k: 1 / 0)
        error = _error(c.post("/v1/predict", json={"texts": ["good"]}), 500, "internal error")
        assert "ZeroDivision" not in json.dumps(error)


# ------------------------------------------------------------------ limits: 413


def test_texts_limit_exactly_at_and_just_over(client):
    at = client.post("/v1/predict", json={"texts": ["good food"] * MAX_TEXTS})
    assert at.status_code == 200 and len(at.json()["predictions"]) == MAX_TEXTS
    _error(client.post("/v1/predict", json={"texts": ["good food"] * (MAX_TEXTS + 1)}), 413, f"{MAX_TEXTS:,}")


def test_bytes_limit_exactly_at_and_just_over(client):
    headers = {"Content-Type": "application/json"}
    at = _body_of_size(MAX_BODY_BYTES)
    assert len(at) == MAX_BODY_BYTES
    response = client.post("/v1/predict", content=at, headers=headers)
    assert response.status_code == 200, response.text
    over = _body_of_size(MAX_BODY_BYTES + 1)
    _error(client.post("/v1/predict", content=over, headers=headers), 413, f"{MAX_BODY_BYTES:,} bytes")
    explain_over = json.dumps({"text": "a" * MAX_BODY_BYTES}).encode()
    _error(client.post("/v1/explain", content=explain_over, headers=headers), 413)


def test_bytes_limit_without_a_content_length(client):
    def chunks(body):
        yield from (body[i : i + 65536] for i in range(0, len(body), 65536))

    headers = {"Content-Type": "application/json"}
    at = client.post("/v1/predict", content=chunks(_body_of_size(MAX_BODY_BYTES)), headers=headers)
    assert at.status_code == 200, at.text
    over = client.post("/v1/predict", content=chunks(_body_of_size(MAX_BODY_BYTES + 1)), headers=headers)
    _error(over, 413)


# ------------------------------------------------------------------ the API key: 401


@pytest.mark.parametrize("path", ["/v1/predict", "/v1/explain", "/v1/model"])
def test_every_v1_path_needs_the_key(keyed, path):
    method = keyed.get if path == "/v1/model" else keyed.post
    body = {"texts": ["good"]} if path == "/v1/predict" else {"text": "good"}
    kwargs = {} if path == "/v1/model" else {"json": body}
    response = method(path, **kwargs)
    _error(response, 401, "API key")
    assert response.headers["www-authenticate"] == "Bearer"
    for headers in ({"Authorization": "Bearer wrong"}, {"X-API-Key": KEY + "x"}, {"Authorization": KEY},
                    {"Authorization": "Basic " + KEY}, {"X-API-Key": ""}):  # fmt: skip
        _error(method(path, headers=headers, **kwargs), 401)
    for headers in ({"Authorization": f"Bearer {KEY}"}, {"authorization": f"bearer {KEY}"}, {"X-API-Key": KEY},
                    {"Authorization": "Bearer wrong", "X-API-Key": KEY}):  # fmt: skip
        assert method(path, headers=headers, **kwargs).status_code == 200


def test_the_key_comes_before_parsing_and_health_stays_open(keyed):
    _error(keyed.post("/v1/predict", content=b"{not json", headers={"Content-Type": "application/json"}), 401)
    assert keyed.get("/healthz").status_code == 200
    assert keyed.get("/readyz").json()["auth"] is True
    assert keyed.get("/").status_code == 200  # the page asks for the key itself
    schemes = keyed.get("/openapi.json").json()["components"]["securitySchemes"]
    assert {"HTTPBearer", "APIKeyHeader"} <= set(schemes)


# ------------------------------------------------------------------ the command


def test_serve_refuses_a_broken_model_with_one_line(tmp_path, model_dir):
    missing = runner.invoke(cli, ["serve", str(tmp_path / "nothing")])
    assert missing.exit_code == 1 and missing.stderr.startswith("error: ") and len(missing.stderr.splitlines()) == 1
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "meta.json").write_text("{", encoding="utf-8")
    result = runner.invoke(cli, ["serve", str(broken)])
    assert result.exit_code == 1 and "damaged" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_refuses_vectors_that_do_not_fit_the_model_before_listening(tmp_path, model_dir, workers):
    swapped = tmp_path / "swapped"
    shutil.copytree(model_dir, swapped)
    # The same shape, other words: format 4 loads without vectors.bin, so serving must check them before it starts.
    header, _, rest = (swapped / "vectors.bin").read_bytes().partition(b"\n")
    (swapped / "vectors.bin").write_bytes(header + b"\n" + b"zz" + rest[2:])
    result = runner.invoke(cli, ["serve", str(swapped), "--port", str(_free_port()), "--workers", workers])
    assert result.exit_code == 1 and "vectors.bin" in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.splitlines()) == 1


def test_serve_needs_the_key_variable_set(model_dir, monkeypatch):
    monkeypatch.delenv("SENTIMENT_TEST_NO_SUCH_KEY", raising=False)
    result = runner.invoke(cli, ["serve", str(model_dir), "--api-key-env", "SENTIMENT_TEST_NO_SUCH_KEY"])
    assert result.exit_code == 1 and "SENTIMENT_TEST_NO_SUCH_KEY" in result.stderr


def test_serve_says_when_the_port_is_taken(model_dir):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = runner.invoke(cli, ["serve", str(model_dir), "--port", str(port)])
    assert result.exit_code == 1 and f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_predict_does_not_import_fastapi(model_dir):
    code = (
        "import sys; from typer.testing import CliRunner; from sentiment.cli import app; "
        f"r = CliRunner().invoke(app, ['predict', {str(model_dir)!r}, 'good food']); "
        "assert r.exit_code == 0, r.output; "
        "assert not {'fastapi', 'uvicorn', 'starlette', 'sentiment.serve'} & set(sys.modules), 'imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONWARNINGS": "error"})


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]


def _listening_sockets(port: int) -> int:
    """Sockets in LISTEN state on ``port`` (``/proc/net/tcp``: state 0A)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                count += fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port
    return count


def _children(pid: int) -> dict[int, float]:
    """Live worker processes of the server ``pid`` (not multiprocessing's resource tracker) and their CPU seconds."""
    found = {}
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if b"resource_tracker" in cmdline.read():
                    continue
        except (OSError, ValueError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def _wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _start_two_workers(model_dir, **popen) -> tuple[subprocess.Popen, int, str]:
    port = _free_port()
    env = {**os.environ, "SENTIMENT_TEST_KEY": KEY}
    command = [sys.executable, "-m", "sentiment", "serve", str(model_dir), "--port", str(port), "--workers", "2",
               "--api-key-env", "SENTIMENT_TEST_KEY", "--no-access-log"]  # fmt: skip
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(base, server)
    # Each worker listens on its own socket (SO_REUSEPORT): two listening sockets once both are up.
    _wait_for(lambda: _listening_sockets(port) == 2 or server.poll() is not None, "both workers to listen")
    assert server.poll() is None, server.communicate(timeout=10)[1][-2000:]
    return server, port, base


@pytest.mark.slow
def test_two_workers_share_keep_alive_clients_check_the_key_and_replace_a_dead_worker(model_dir):
    server, port, base = _start_two_workers(model_dir)
    try:
        assert httpx.post(f"{base}/v1/predict", json={"texts": ["good"]}).status_code == 401
        workers = _children(server.pid)
        assert len(workers) == 2
        # 16 clients, each keeping its own connection: the kernel spreads the connections over both workers'
        # sockets (with one shared socket, one worker took every connection of a burst).
        clients = [httpx.Client(base_url=base, headers={"X-API-Key": KEY}) for _ in range(16)]
        try:
            for _ in range(10):
                for client in clients:
                    response = client.post("/v1/predict", json={"texts": ["good food " * 200]})
                    assert response.status_code == 200 and response.json()["predictions"][0]["label"]
        finally:
            for client in clients:
                client.close()
        used = {pid: seconds - workers[pid] for pid, seconds in _children(server.pid).items() if pid in workers}
        assert len(used) == 2 and all(seconds > 0 for seconds in used.values()), used
        # A worker that dies is replaced, and the service keeps answering.
        victim = next(iter(workers))
        os.kill(victim, signal.SIGKILL)
        _wait_for(lambda: victim not in _children(server.pid) and len(_children(server.pid)) == 2, "a replacement")
        _wait_for(lambda: _listening_sockets(port) == 2, "the replacement to listen")
        response = httpx.post(f"{base}/v1/predict", json={"texts": ["good food"]}, headers={"X-API-Key": KEY})
        assert response.status_code == 200
        workers = _children(server.pid)
    finally:
        stderr = interrupt(server, signal.SIGTERM)
    assert server.returncode == 143, stderr  # stopped as asked, with the status every command gives SIGTERM
    assert KEY not in stderr and "Traceback" not in stderr
    assert "starting another" in stderr and "with 2 worker processes" in stderr
    assert not any(os.path.exists(f"/proc/{pid}") for pid in workers) and _listening_sockets(port) == 0


@pytest.mark.slow
def test_ctrl_c_stops_every_worker(model_dir):
    server, port, _ = _start_two_workers(model_dir, preexec_fn=as_at_a_terminal)
    workers = _children(server.pid)
    stderr = interrupt(server, signal.SIGINT)
    assert server.returncode == 130 and "Traceback" not in stderr, stderr
    assert not any(os.path.exists(f"/proc/{pid}") for pid in workers) and _listening_sockets(port) == 0


def test_concurrent_small_requests_are_batched_with_the_same_answers(model):
    application = create_app(model)
    texts = ["great food", "", "zzqx", "rude staff and cold soup", "lovely"] * 4

    async def send_all():
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await asyncio.gather(
                *(c.post("/v1/predict", json={"texts": [t], "baseline": i % 2 == 0}) for i, t in enumerate(texts))
            )

    responses = asyncio.run(send_all())
    assert application.state.batcher.rounds < len(texts)  # some requests shared a round
    for i, (text, response) in enumerate(zip(texts, responses, strict=True)):
        alone = predict_payload(model, [text], i % 2 == 0)
        body = response.json()
        assert body["baseline_pipeline"] == alone["baseline_pipeline"]
        # float32 features: a text's probabilities may differ in the 7th digit with its batch, as in the library
        for got, expected in zip(body["predictions"], alone["predictions"], strict=True):
            assert (got["label"], got["note"]) == (expected["label"], expected["note"])
            assert got["probability"] == pytest.approx(expected["probability"], abs=1e-6)
            assert (got.get("baseline") or {}).get("label") == (expected.get("baseline") or {}).get("label")


def test_every_answer_says_the_server_time_in_server_timing(client, keyed):
    import re

    answers = [
        client.post("/v1/predict", json={"texts": ["great food"]}),
        client.get("/healthz"),
        client.post("/v1/predict", content=b"{", headers={"Content-Type": "application/json"}),  # 422
        keyed.post("/v1/predict", json={"texts": ["great food"]}),  # 401, answered by the guard
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 422, 401]
    for answer in answers:
        assert re.fullmatch(r"app;dur=\d+\.\d\d", answer.headers["server-timing"]), answer.headers
