"""Request and response models shared by handlers and the OpenAPI document."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from cencomm.domain.ids import MAX_SEQUENCE

MAX_LIMIT = 500
DEFAULT_LIMIT = 50

# A seq, audit index or tree size from a query string: past 64 bits is a 422, never a database
# overflow (a 500).
Sequence = Annotated[int, Field(ge=0, le=MAX_SEQUENCE)]


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
