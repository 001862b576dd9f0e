"""The FastAPI application: predictions, explanations, model facts, health, and the page at ``/``.

``create_app(model, api_key=...)`` serves an already loaded model (the command
line loads it first, so a broken model fails before anything listens).
``app_from_environment()`` is the factory uvicorn's worker processes call with
``--workers`` > 1: each loads the model named by ``SENTIMENT_SERVE_MODEL``
once, and reads the API key from the variable named by
``SENTIMENT_SERVE_API_KEY_ENV`` (the key itself never travels on a command line).

Every error is JSON, ``{"error": {"status", "message"}}``: 422 for a malformed
body, 413 beyond ``MAX_TEXTS`` texts or ``MAX_BODY_BYTES`` bytes, 401 on
``/v1/`` paths without the key when one is set (``Authorization: Bearer KEY``
or ``X-API-Key: KEY``, compared in constant time). ``/healthz``, ``/readyz``,
the page and ``/docs`` stay open: they tell nothing about the model or the texts.
An unexpected failure is a 500 with a generic message; its traceback goes to
the server's log, never to the client. Every answer but that 500 carries
``Server-Timing: app;dur=MS``, the server's own time on the request.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import APIKeyHeader, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from sentiment.errors import SentimentError
from sentiment.model import SentimentModel
from sentiment.predict import EMPTY_TEXT, prediction_notes
from sentiment.serve.schemas import (
    MAX_BODY_BYTES,
    MAX_TEXTS,
    ErrorBody,
    ExplainRequest,
    ExplainResponse,
    ModelFacts,
    PredictRequest,
    PredictResponse,
)

__all__ = ["ENV_KEY_NAME", "ENV_MODEL", "app_from_environment", "create_app"]

ENV_MODEL = "SENTIMENT_SERVE_MODEL"
ENV_KEY_NAME = "SENTIMENT_SERVE_API_KEY_ENV"
STATIC = Path(__file__).parent / "static"
# Requests with more text than this (about 200 IMDB reviews, ~12 ms of scoring) are computed in the thread pool,
# so that one big request does not hold up the others' I/O; smaller ones on the event loop, merged by _Batcher.
# Batches of 32 reviews (~42,000 characters) in the thread pool served 6,600 reviews/s, inline 11,300 (8 clients).
INLINE_CHARS = 262_144
# Explaining costs far more per character than predicting: longer texts go to the thread pool.
EXPLAIN_INLINE_CHARS = 16_384
_ERRORS = {status: {"model": ErrorBody} for status in (401, 413, 422)}
_log = logging.getLogger("sentiment.serve")


def _error(status: int, message: str, details: list[dict] | None = None, headers: dict | None = None) -> JSONResponse:
    body = {"status": status, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


class _Guard:
    """Pure ASGI middleware: the API key on ``/v1/`` paths (401), then the body size (413), before any parsing."""

    def __init__(self, app, *, api_key: str | None, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes
        self.key = api_key.encode() if api_key else None

    def _authorised(self, headers: dict[bytes, bytes]) -> bool:
        offered = []
        scheme, _, token = headers.get(b"authorization", b"").partition(b" ")
        if scheme.lower() == b"bearer":
            offered.append(token.strip())
        if b"x-api-key" in headers:
            offered.append(headers[b"x-api-key"].strip())
        # Every offered key is compared (constant time each), so timing says nothing about which was close.
        return any([hmac.compare_digest(candidate, self.key) for candidate in offered])

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        send = _with_server_timing(send)
        headers = dict(scope["headers"])
        if self.key is not None and scope["path"].startswith("/v1/") and not self._authorised(headers):
            response = _error(
                401,
                "missing or wrong API key: send `Authorization: Bearer KEY` or `X-API-Key: KEY`",
                headers={"WWW-Authenticate": "Bearer"},
            )
            return await response(scope, receive, send)
        too_big = _error(413, f"request body larger than {self.max_bytes:,} bytes")
        length = headers.get(b"content-length")
        if length is not None:
            if length.isdigit() and int(length) > self.max_bytes:
                return await too_big(scope, receive, send)
            return await self.app(scope, receive, send)
        # No length announced (chunked): read at most max_bytes + 1, then hand the body on.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message]), send)
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_bytes:
                return await too_big(scope, receive, send)
        return await self.app(scope, _replay([{"type": "http.request", "body": b"".join(chunks)}], receive), send)


def _with_server_timing(send):
    """``send`` that adds ``Server-Timing: app;dur=MS`` to the response: the server's own time on the request,
    from its arrival to its answer, so a client (or a browser's devtools) can tell it from network and queueing."""
    began = time.perf_counter()

    async def timed_send(message):
        if message["type"] == "http.response.start":
            duration = f"app;dur={(time.perf_counter() - began) * 1000:.2f}".encode()
            message = {**message, "headers": [*message.get("headers", []), (b"server-timing", duration)]}
        await send(message)

    return timed_send


def _replay(messages: list[dict], then=None):
    async def receive():
        if messages:
            return messages.pop(0)
        return await then() if then is not None else {"type": "http.disconnect"}

    return receive


async def _compute(size: int, function, *args):
    """Run ``function(*args)`` (an explanation) on the event loop when the text is short (no thread hand-off:
    most requests), in the thread pool when it is long, so that one big request does not hold up the others."""
    if size <= EXPLAIN_INLINE_CHARS:
        return function(*args)
    return await run_in_threadpool(function, *args)


class _Batcher:
    """Predictions of small requests that arrive together, computed in one call (dynamic batching).

    A request adds its texts and waits; the first one of a round schedules a flush with ``call_soon``, which
    runs after the requests already in hand have been parsed and added. There is no waiting for more: under
    light load a round holds one request, under load the fixed cost of a prediction call (tokenizer set-up,
    scikit-learn's checks, ~0.25 ms) is shared by all the requests of a round. Each text's result is what
    ``predict_payload`` gives it alone (up to float32 rounding: the library's own probabilities for a text
    may differ in the 7th digit with the batch it comes in).
    """

    def __init__(self, model: SentimentModel):
        self.model = model
        self.pending: list[tuple[list[str], bool, asyncio.Future, int]] = []  # texts, baseline, answer, characters
        self.rounds = 0  # flushes so far (tests read it)

    async def predict(self, texts: list[str], baseline: bool, characters: int) -> dict:
        future = asyncio.get_running_loop().create_future()
        self.pending.append((texts, baseline, future, characters))
        if len(self.pending) == 1:
            asyncio.get_running_loop().call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        # At most about INLINE_CHARS of text a round (requests whole): the rest waits for the next round, after
        # the event loop has had its turn, so merging many large requests never blocks I/O for long.
        size, cut = 0, 0
        while cut < len(self.pending) and (cut == 0 or size + self.pending[cut][3] <= INLINE_CHARS):
            size += self.pending[cut][3]
            cut += 1
        pending, self.pending = self.pending[:cut], self.pending[cut:]
        if self.pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self.rounds += 1
        for baseline in (False, True):
            group = [(texts, future) for texts, wants, future, _ in pending if wants is baseline]
            if not group:
                continue
            try:
                payload = predict_payload(self.model, [t for texts, _ in group for t in texts], baseline)
            except Exception as error:  # every request of the round gets it (a 500, logged)
                for _, future in group:
                    if not future.done():
                        future.set_exception(error)
                continue
            start = 0
            for texts, future in group:
                if not future.done():  # a client that went away cancelled its future
                    future.set_result({**payload, "predictions": payload["predictions"][start : start + len(texts)]})
                start += len(texts)


def _scores(classes: list[str], probabilities: np.ndarray) -> dict:
    best = int(np.argmax(probabilities))
    return {
        "label": classes[best],
        "probability": float(probabilities[best]),
        "probabilities": {c: float(p) for c, p in zip(classes, probabilities, strict=True)},
    }


_NO_SCORES = {"label": None, "probability": None, "probabilities": None}


def predict_payload(model: SentimentModel, texts: list[str], baseline: bool) -> dict:
    """The body of a /v1/predict answer (see ``schemas.PredictResponse``)."""
    notes = prediction_notes(model, texts)
    scorable = [i for i, note in enumerate(notes) if note != EMPTY_TEXT]
    baseline_kind = model.baseline if baseline else None
    unscored = {"baseline": dict(_NO_SCORES)} if baseline_kind else {}
    predictions = [{**_NO_SCORES, "note": note or None, **unscored} for note in notes]
    kinds = [(model.primary, None)] + ([(baseline_kind, "baseline")] if baseline_kind else [])
    if scorable:
        chosen = [texts[i] for i in scorable]
        for kind, key in kinds:
            proba = model.predict_proba(chosen, kind)
            classes = [str(c) for c in model.classes_of(kind)]  # not model.pipelines: that imports scikit-learn
            for row, i in enumerate(scorable):
                scores = _scores(classes, proba[row])
                predictions[i].update({key: scores} if key else scores)
    return {"pipeline": model.primary, "baseline_pipeline": baseline_kind, "predictions": predictions}


def model_facts(model: SentimentModel) -> dict:
    """The model card's facts (``schemas.ModelFacts``) from the model's meta.json."""
    meta = model.meta
    metrics = {
        kind: {name: m.get(name) for name in ("n", "accuracy", "macro_f1", "roc_auc")}
        for kind, m in meta.get("metrics", {}).items()
    }
    data_keys = (
        "source",
        "sha256",
        "train_rows",
        "held_out_rows",
        "held_out_source",
        "unlabeled_rows",
        "label_mapping",
    )
    return {
        "format_version": meta.get("format_version", 1),
        "created": meta.get("created"),
        "sentiment_version": meta.get("versions", {}).get("sentiment"),
        "primary": model.primary,
        "baseline": model.baseline,
        "classes": [str(c) for c in model.classes_],
        "data": {k: meta.get("data", {}).get(k) for k in data_keys},
        "parameters": meta.get("parameters", {}),
        "metrics": metrics,
        "limits": {"max_texts": MAX_TEXTS, "max_body_bytes": MAX_BODY_BYTES},
    }


def create_app(model: SentimentModel, *, api_key: str | None = None) -> FastAPI:
    """The application serving ``model``; with ``api_key``, ``/v1/`` paths need it."""
    app = FastAPI(
        title="sentiment",
        summary="Sentiment predictions and word-level explanations from a sentiment model directory.",
        version="1",
        responses={422: {"model": ErrorBody}},
    )
    # Predictions use the lean scorer; explanations need the scikit-learn pipelines. Rebuilt now, before the
    # first request, so that the first /v1/explain does not stall every request behind it (about 0.5 s).
    model.pipelines  # noqa: B018
    app.state.model = model
    app.state.batcher = batcher = _Batcher(model)
    app.add_middleware(_Guard, api_key=api_key, max_bytes=MAX_BODY_BYTES)
    # Declared for the OpenAPI document (the "Authorize" button of /docs); the check itself is _Guard's.
    security = (
        [Depends(HTTPBearer(auto_error=False)), Depends(APIKeyHeader(name="X-API-Key", auto_error=False))]
        if api_key
        else []
    )

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, error: RequestValidationError):
        details = [
            {"location": ".".join(str(part) for part in e.get("loc", ())), "message": e.get("msg", "")}
            for e in error.errors()
        ]  # never the input itself: it may be a megabyte
        summary = "; ".join(f"{d['location']}: {d['message']}" for d in details[:3])
        if "json" not in request.headers.get("content-type", ""):
            summary = "send a JSON body with `Content-Type: application/json`"
        return _error(422, f"malformed request: {summary}", details)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, error: HTTPException):
        return _error(error.status_code, str(error.detail), headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception):
        _log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(500, "internal error: the server's log has the details")

    @app.post("/v1/predict", response_model=PredictResponse, dependencies=security, responses=_ERRORS)
    async def predict(body: PredictRequest) -> JSONResponse:
        """Label each text, with the probability of every class (and the baseline's prediction on request)."""
        if len(body.texts) > MAX_TEXTS:
            raise HTTPException(413, f"{len(body.texts):,} texts: at most {MAX_TEXTS:,} per request")
        model = app.state.model
        characters = sum(map(len, body.texts))
        if characters <= INLINE_CHARS:
            return JSONResponse(await batcher.predict(body.texts, body.baseline, characters))
        return JSONResponse(await run_in_threadpool(predict_payload, model, body.texts, body.baseline))

    @app.post("/v1/explain", response_model=ExplainResponse, dependencies=security, responses=_ERRORS)
    async def explain(body: ExplainRequest) -> JSONResponse:
        """Each token's exact contribution to the logit of the decision on one text."""
        model: SentimentModel = app.state.model
        if body.pipeline is not None and body.pipeline not in model.pipelines:
            raise HTTPException(
                422, f"this model has no {body.pipeline!r} pipeline (it has {', '.join(model.pipelines)})"
            )
        try:
            explanation = await _compute(len(body.text), model.explain, body.text, body.pipeline)
        except SentimentError as error:
            raise HTTPException(422, str(error)) from None
        return JSONResponse(explanation.to_dict())

    @app.get("/v1/model", response_model=ModelFacts, dependencies=security, responses=_ERRORS)
    def facts() -> dict:
        """The model card's facts: data, parameters, held-out metrics, format version."""
        return model_facts(app.state.model)

    @app.get("/healthz")
    async def healthz() -> dict:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"model": ErrorBody}})
    async def readyz():
        """Readiness: the model is loaded."""
        if getattr(app.state, "model", None) is None:
            return _error(503, "the model is not loaded")
        return {"status": "ready", "auth": api_key is not None}

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(
            STATIC / "index.html",
            headers={
                "Content-Security-Policy": "default-src 'self'; img-src 'self' data:",
                "Cache-Control": "no-cache",
            },
        )

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def app_from_environment() -> FastAPI:
    """uvicorn's factory for worker processes: the model path and the key's variable come from the environment."""
    key_name = os.environ.get(ENV_KEY_NAME)
    try:
        return create_app(
            SentimentModel.load(os.environ[ENV_MODEL]), api_key=os.environ.get(key_name) if key_name else None
        )
    except (KeyError, SentimentError) as error:
        sys.stderr.write(f"error: {' '.join(str(error).split())}\n")
        raise SystemExit(1) from None
