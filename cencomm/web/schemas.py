"""Request and response models shared by handlers and the OpenAPI document."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from cencomm.domain.ids import MAX_SEQUENCE
from cencomm.web.field_schemas import MAX_CURSOR as MAX_CURSOR
from cencomm.web.field_schemas import cursor_field as cursor_field

MAX_LIMIT = 500
DEFAULT_LIMIT = 50

# A seq, audit index or tree size from a query string: past 64 bits is a 422, never a database
# overflow (a 500).
Sequence = Annotated[int, Field(ge=0, le=MAX_SEQUENCE)]


_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def _rfc3339(value: object) -> object:
    """Only RFC 3339 text with a zone (pydantic alone would also take Unix times: `0.5`)."""
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time with a zone")
    if not isinstance(value, str | datetime):
        raise ValueError("must be an RFC 3339 date-time with a zone")
    return value


# A point in time from a query string (`since`, `until`): as the document's `date-time` says.
Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]


class RequestModel(BaseModel):
    """JSON bodies: unknown fields refused, no type coercion (a number is not a string)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class QueryModel(BaseModel):
    """Query strings are text: values are converted, unknown parameters refused."""

    model_config = ConfigDict(extra="forbid")


class PageQuery(QueryModel):
    after: str | None = cursor_field()
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProblemFieldError(ResponseModel):
    field: str = Field(examples=["body.items[0].unit"])
    message: str


def absent_not_null(schema: dict[str, Any]) -> None:
    """Optional members are left out, never sent as null: their schema is the plain type."""
    for member in schema.get("properties", {}).values():
        if member.get("default", ...) is None and "anyOf" in member:
            member.pop("default")
            (kind,) = [s for s in member.pop("anyOf") if s != {"type": "null"}]
            member.update(kind)


class Problem(ResponseModel):
    """RFC 9457 problem document (every error answer, `application/problem+json`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=absent_not_null)

    type: str = Field(pattern=r"^urn:cencomm:problem:[a-z0-9-]+$")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str | None = Field(default=None, description="the request's path")
    request_id: str | None = Field(default=None, description="quote it when reporting a failure")
    errors: list[ProblemFieldError] | None = Field(
        default=None, description="validation failures: which field, and what is wrong with it"
    )

    @field_validator("instance", "request_id", "errors", mode="before")
    @classmethod
    def _present_or_absent(cls, value: object) -> object:
        if value is None:
            raise ValueError("leave the member out rather than send null")
        return value
