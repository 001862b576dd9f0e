"""Request and response bodies of the HTTP API (pydantic models; FastAPI turns them into the OpenAPI schema).

The limits a request must keep are declared here too (``MAX_TEXTS``,
``MAX_BODY_BYTES``); beyond them the server answers 413, not 422.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_TEXTS",
    "ErrorBody",
    "ExplainRequest",
    "ExplainResponse",
    "ModelFacts",
    "PredictRequest",
    "PredictResponse",
]

MAX_TEXTS = 1_000  # texts in one /v1/predict request
MAX_BODY_BYTES = 1_048_576  # bytes of one request body (1 MiB), any endpoint

Pipeline = Literal["embeddings", "onehot"]


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: list[StrictStr] = Field(
        min_length=1,
        description=f"1 to {MAX_TEXTS:,} texts (more: 413); the whole body at most {MAX_BODY_BYTES:,} bytes",
    )
    baseline: StrictBool = Field(False, description="Also give the baseline pipeline's prediction of each text.")


class Scores(BaseModel):
    label: str | None = Field(description="The predicted label; null for an empty text.")
    probability: float | None = Field(description="The predicted label's probability.")
    probabilities: dict[str, float] | None = Field(description="Probability of every class.")


class Prediction(Scores):
    note: str | None = Field(
        description='"empty text" (no label) or "no known word" (the label is only the model\'s prior); else null.'
    )
    baseline: Scores | None = Field(None, description="The baseline pipeline's prediction, when asked for.")


class PredictResponse(BaseModel):
    pipeline: str = Field(description="The pipeline that made `label` (the model's primary).")
    baseline_pipeline: str | None = Field(description="The pipeline of `baseline`, if asked for and the model has one.")
    predictions: list[Prediction] = Field(description="One per text, in order.")


class ExplainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: StrictStr = Field(description=f"One text; the whole body at most {MAX_BODY_BYTES:,} bytes.")
    pipeline: Pipeline | None = Field(None, description="Which pipeline to explain (default: the primary).")


class TokenContribution(BaseModel):
    token: str
    contribution: float = Field(description="The token's share of the logit of `explained_class`.")
    known: bool = Field(description="Whether the pipeline knows the token (unknown tokens contribute 0).")
    start: int | None = Field(description="Offset of the token in the text (`text[start:end]`).")
    end: int | None


class ExplainResponse(BaseModel):
    text: str
    pipeline: str
    label: str
    probability: float
    probabilities: dict[str, float]
    explained_class: str = Field(
        description="Whose logit is split: classes[1] with two classes (the other is `opposite_class`), "
        "else the predicted class."
    )
    opposite_class: str | None
    logit: float = Field(description="The classifier's decision function: sum of the contributions + constant.")
    constant: float = Field(description="The part of the logit that belongs to no token (intercept, scaling).")
    tokens: list[TokenContribution]
    note: str | None


class PipelineMetrics(BaseModel):
    n: int | None = None
    accuracy: float | None = None
    macro_f1: float | None = None
    roc_auc: float | None = None


class ModelFacts(BaseModel):
    """The model card's facts, from the model's meta.json."""

    format_version: int
    created: str | None
    sentiment_version: str | None
    primary: str
    baseline: str | None
    classes: list[str]
    data: dict = Field(description="Training data: source, sha256, row counts, label mapping.")
    parameters: dict = Field(description="Training parameters (word2vec, C, seed).")
    metrics: dict[str, PipelineMetrics] = Field(description="Held-out metrics of each pipeline.")
    limits: dict[str, int] = Field(description="This server's request limits.")


class ErrorDetail(BaseModel):
    status: int
    message: str
    details: list[dict] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail
