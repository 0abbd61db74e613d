"""Request and response models shared by handlers and the OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MAX_LIMIT = 500
DEFAULT_LIMIT = 50


class RequestModel(BaseModel):
    """JSON bodies: unknown fields refused, no type coercion (a number is not a string)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class QueryModel(BaseModel):
    """Query strings are text: values are converted, unknown parameters refused."""

    model_config = ConfigDict(extra="forbid")


class PageQuery(QueryModel):
    after: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
