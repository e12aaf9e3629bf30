"""What ``POST /chat/stream`` accepts: ``{"message": "..."}``, parsed once at the edge.

The body is decoded by :func:`course_lib.http_edge.read_json` (JSON content type, at most
:data:`MAX_BODY_BYTES`, nesting, integer size, valid Unicode) and parsed into a
:class:`StreamRequest`. Every refusal is a 4xx JSON error in OpenAI's shape, sent before any
stream starts and before the model is called, so a bad request costs nothing.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator
from starlette.requests import Request

from course_lib.http_edge import ApiError, parse_model, read_json, rule_error

__all__ = ["MAX_BODY_BYTES", "StreamRequest", "read_stream_request"]

MAX_BODY_BYTES = 64 * 1024
# A chat message nests nothing: a body nested deeper than this is not a chat request.
MAX_DEPTH = 8


class StreamRequest(BaseModel):
    """The one field the endpoint reads: the user's message."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    message: str

    @field_validator("message")
    @classmethod
    def _not_blank(cls, message: str) -> str:
        if not message.strip():
            raise rule_error("Invalid '{param}': empty message. Expected a question, but got "
                             f"{'an empty string' if not message else 'only whitespace'} "
                             "instead.", code="empty_string")
        return message


async def read_stream_request(request: Request) -> StreamRequest:
    """The request's body as a :class:`StreamRequest`, or the :class:`ApiError` to answer."""
    body = await read_json(request, max_bytes=MAX_BODY_BYTES, max_depth=MAX_DEPTH)
    if not isinstance(body, dict):
        raise ApiError(400, "We could not parse the JSON body of your request. (HINT: send a "
                       'JSON object such as {"message": "your question"}.)')
    return parse_model(StreamRequest, body)
