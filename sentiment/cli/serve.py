"""``sentiment serve``: run the HTTP prediction service and its web page (``sentiment/serve/``) with uvicorn."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated

import typer

from sentiment.cli.exits import handle_errors


@handle_errors
def serve(
    model: Annotated[Path, typer.Argument(help="A model directory from `sentiment train`.")],
    host: Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes, each with its own model.", min=1)] = 1,
    api_key_env: Annotated[
        str | None,
        typer.Option(
            "--api-key-env",
            metavar="NAME",
            help="Require the API key held in environment variable NAME on /v1/ paths (never pass the key itself).",
        ),
    ] = None,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="Log every request.")] = True,
):
    """Serve MODEL over HTTP: POST /v1/predict, /v1/explain, GET /v1/model, /healthz, /readyz, /docs, a page at /."""
    from sentiment.errors import SentimentError
    from sentiment.model import SentimentModel

    loaded = SentimentModel.load(model)  # a broken model fails here, before anything listens
    api_key = None
    if api_key_env is not None:
        api_key = os.environ.get(api_key_env, "")
        if not api_key.strip():
            raise SentimentError(f"--api-key-env {api_key_env}: that environment variable is not set or is empty")
    try:  # a clear line now rather than uvicorn's log later
        with socket.create_server((host, port)):
            pass
    except OSError as error:
        raise SentimentError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None

    import uvicorn

    from sentiment.serve.app import ENV_KEY_NAME, ENV_MODEL, create_app

    options = {
        "host": host,
        "port": port,
        "access_log": access_log,
        "log_level": "info",
        "timeout_graceful_shutdown": 5,
    }
    if workers == 1:
        uvicorn.run(create_app(loaded, api_key=api_key), **options)
        return
    loaded.word_vectors  # noqa: B018 -- format 4 reads vectors.bin lazily: a damaged one must fail here, once
    del loaded  # each worker process loads its own copy
    from sentiment.serve import workers as worker_processes

    if worker_processes.supported():  # one socket per worker: keep-alive clients spread over every worker
        settings = worker_processes.WorkerSettings(
            model=str(model.resolve()), host=host, port=port, api_key_env=api_key_env, access_log=access_log
        )
        status = worker_processes.run_workers(settings, workers)  # 0, 1 (a worker failed), 130 or 143 (stopped)
        if status:
            raise SystemExit(status)
        return
    os.environ[ENV_MODEL] = str(model.resolve())
    os.environ.pop(ENV_KEY_NAME, None)
    if api_key_env is not None:
        os.environ[ENV_KEY_NAME] = api_key_env
    uvicorn.run("sentiment.serve.app:app_from_environment", factory=True, workers=workers, **options)
