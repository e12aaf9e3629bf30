"""The OpenAI wire format the sandbox speaks: request checks and error bodies.

Every rejected request gets OpenAI's error shape, ``{"error": {"message", "type", "param",
"code"}}``, with a 4xx status and a message that names the problem, so a learner who sends a
malformed request sees exactly what they would see from the real API (and the server never
crashes on bad input).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse

__all__ = ["ApiError", "error_response", "parse_json_object"]

# Bodies above this are refused before parsing: a guard against a client that sends megabytes.
MAX_BODY_BYTES = 4 * 1024 * 1024
CHAT_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
EMBEDDING_MAX_INPUTS = 2048
EMBEDDING_MAX_INPUT_TOKENS = 8192
EMBEDDING_MAX_REQUEST_TOKENS = 300_000


@dataclass
class ApiError(Exception):
    """A request the sandbox refuses, rendered as an OpenAI error body."""

    status: int
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None
    headers: dict[str, str] | None = None

    def __str__(self) -> str:
        return f"{self.status} {self.message}"


def error_response(error: ApiError) -> JSONResponse:
    body = {
        "error": {
            "message": error.message,
            "type": error.type,
            "param": error.param,
            "code": error.code,
        }
    }
    return JSONResponse(body, status_code=error.status, headers=error.headers)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a request body that must be a JSON object."""
    if not raw:
        raise ApiError(400, "We could not parse the JSON body of your request: the body is empty.")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(
            400,
            f"We could not parse the JSON body of your request ({exc}). The body must be a JSON "
            "object.",
        ) from None
    if not isinstance(body, dict):
        raise ApiError(400, f"The request body must be a JSON object, not {type(body).__name__}.")
    return body


def require_int(body: dict[str, Any], name: str, *, minimum: int, maximum: int | None = None
                ) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"Invalid type for '{name}': expected an integer, got {value!r}.",
                       param=name, code="invalid_type")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"at least {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise ApiError(400, f"Invalid '{name}': {value}. It must be {bound}.", param=name,
                       code="invalid_value")
    return value


def require_number(body: dict[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiError(400, f"Invalid type for '{name}': expected a number, got {value!r}.",
                       param=name, code="invalid_type")
    if not low <= value <= high:
        raise ApiError(400, f"Invalid '{name}': {value}. It must be between {low} and {high}.",
                       param=name, code="invalid_value")


def check_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``messages`` array, checked the way the API checks it."""
    if "messages" not in body:
        raise ApiError(400, "Missing required parameter: 'messages'.", param="messages",
                       code="missing_required_parameter")
    messages = body["messages"]
    if not isinstance(messages, list):
        raise ApiError(400, "Invalid type for 'messages': expected an array of message objects.",
                       param="messages", code="invalid_type")
    if not messages:
        raise ApiError(400, "Invalid 'messages': empty array. Expected an array with at least "
                       "one message.", param="messages", code="empty_array")
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise ApiError(400, f"Invalid type for '{where}': expected an object.", param=where,
                           code="invalid_type")
        role = message.get("role")
        if role not in CHAT_ROLES:
            raise ApiError(400, f"Invalid value for '{where}.role': {role!r}. Supported values "
                           f"are: {', '.join(sorted(CHAT_ROLES))}.", param=f"{where}.role",
                           code="invalid_value")
        content = message.get("content")
        if content is None and not (role == "assistant" and message.get("tool_calls")):
            raise ApiError(400, f"Missing required parameter: '{where}.content'.",
                           param=f"{where}.content", code="missing_required_parameter")
        if content is not None and not isinstance(content, str | list):
            raise ApiError(400, f"Invalid type for '{where}.content': expected a string or an "
                           "array of content parts.", param=f"{where}.content",
                           code="invalid_type")
        if isinstance(content, list):
            for part_index, part in enumerate(content):
                if not (isinstance(part, dict) and part.get("type") == "text"
                        and isinstance(part.get("text"), str)):
                    raise ApiError(400, f"Invalid '{where}.content[{part_index}]': the sandbox "
                                   "accepts text parts only ({'type': 'text', 'text': ...}).",
                                   param=f"{where}.content[{part_index}]", code="invalid_value")
    return messages


def message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(part["text"] for part in content)
    return content or ""
