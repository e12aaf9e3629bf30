"""The edge of the course's two HTTP servers: a body parsed once, strictly, into a typed request.

The sandbox (:mod:`course_lib.sandbox`) and the streaming relay (:mod:`course_lib.streaming`) read
every JSON body here, then hand it to a pydantic model that describes the request. Everything a
client can get wrong is refused at this edge, with a 4xx JSON error in OpenAI's shape that names
the field, so the code behind it can trust what it is given::

    {"error": {"message": "Invalid type for 'max_tokens': expected an integer, but got a string
               instead.", "type": "invalid_request_error", "param": "max_tokens",
               "code": "invalid_type"}}

Limits that JSON itself does not set, and that would otherwise surface deep inside as a crash:

* the ``Content-Type`` must be ``application/json`` (415 otherwise): a ``text/plain`` POST is a
  CORS "simple request" that any web page can send without asking first;
* the body has a size limit per server (413, and the connection is closed: the rest of the body
  is never read);
* arrays and objects nest at most :data:`MAX_JSON_DEPTH` levels (Python's decoder would raise
  ``RecursionError`` at about a thousand);
* integers fit in 64 bits (a 5,000-digit number exceeds Python's integer-conversion limit);
* numbers are finite (``1e999`` would decode as infinity; ``NaN`` is not JSON);
* strings are valid Unicode: a lone surrogate such as ``"\\ud800"`` decodes into a Python string
  that cannot be encoded as UTF-8 again, so no tokenizer, log line or reply could use it.

The error messages keep OpenAI's wording where OpenAI has one ("Missing required parameter",
"Invalid type for ... expected ..., but got ... instead", "Invalid value: ... Supported values
are: ...", "array too long", "integer below minimum value", "We could not parse the JSON body
of your request"), and never contain internal exception text. A 5xx answer carries
``Connection: close``: a client must not reuse a connection the server is about to drop.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = [
    "MAX_JSON_DEPTH",
    "ApiError",
    "decode_json",
    "error_response",
    "http_exception",
    "parse_model",
    "read_json",
    "rule_error",
    "unexpected_error",
]

MAX_JSON_DEPTH = 64
_INT64 = 2**63
_log = logging.getLogger(__name__)
Model = TypeVar("Model", bound=BaseModel)


@dataclass
class ApiError(Exception):
    """A refused request, rendered as an OpenAI error body (``param`` names the field)."""

    status: int
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None
    headers: dict[str, str] | None = None

    def __str__(self) -> str:
        return f"{self.status} {self.message}"


def error_response(error: ApiError) -> JSONResponse:
    """The JSON response for ``error``; a 5xx or a 413 also closes the connection."""
    headers = dict(error.headers or {})
    if error.status >= 500 or error.status == 413:
        headers["connection"] = "close"
    body = {"error": {"message": _printable(error.message), "type": error.type,
                      "param": None if error.param is None else _printable(error.param),
                      "code": error.code}}
    return JSONResponse(body, status_code=error.status, headers=headers)


async def http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (an unknown URL, a wrong method) as JSON errors too."""
    assert isinstance(exc, HTTPException)
    path = request.url.path[:256]
    message = {404: f"Unknown URL: {request.method} {path}.",
               405: f"Method {request.method} is not allowed on {path}."}.get(
        exc.status_code, str(exc.detail))
    return error_response(ApiError(exc.status_code, message, headers=exc.headers))


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug of ours: logged with its traceback here, answered without its text."""
    _log.error("unexpected error answering %s %s", request.method, request.url.path,
               exc_info=(type(exc), exc, exc.__traceback__))
    return error_response(ApiError(500, "The server had an error while processing your request.",
                                   type="server_error", code="internal_error"))


# -- the body ---------------------------------------------------------------------------------


async def read_json(request: Request, *, max_bytes: int, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The request's JSON body, decoded strictly (see the module docstring for every limit)."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        shown = media_type or "none"
        raise ApiError(415, f"Unsupported content type: '{shown}'. This API method only accepts "
                       f"'application/json' requests, but you specified the header "
                       f"'Content-Type: {shown}'. Please try again with a supported content "
                       "type.", code="unsupported_content_type")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return decode_json(b"".join(chunks), max_depth=max_depth)


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(413, f"Request body too large: the limit is {max_bytes:,} bytes.",
                    code="request_too_large")


class _TooLargeInteger:
    """Stands in for an integer literal outside 64 bits until the walk finds where it was."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _parse_int(literal: str) -> int | _TooLargeInteger:
    digits = len(literal.lstrip("-"))
    if digits > 19:
        return _TooLargeInteger(digits)
    value = int(literal)
    return value if -_INT64 <= value < _INT64 else _TooLargeInteger(digits)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _not_json(hint: str) -> ApiError:
    return ApiError(400, f"We could not parse the JSON body of your request. (HINT: {hint})")


def decode_json(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``raw`` decoded as one UTF-8 JSON value within the edge's limits, or an :class:`ApiError`."""
    if not raw.strip():
        raise _not_json("the body is empty; send a JSON object.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_json(f"the body is not UTF-8 (byte {exc.start}).") from None
    try:
        value = json.loads(text, parse_int=_parse_int, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise _not_json(f"{exc.msg} at line {exc.lineno} column {exc.colno}.") from None
    except ValueError as exc:  # NaN, Infinity
        raise _not_json(f"{exc}.") from None
    except RecursionError:
        raise _not_json(f"arrays and objects nest more than {max_depth} levels deep.") from None
    _check_values(value, max_depth)
    return value


def _path(parts: tuple[str | int, ...]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "body"


def _check_values(root: Any, max_depth: int) -> None:
    """Walk the decoded value (iteratively: depth is what is being checked) for what JSON allows
    but no caller can use."""
    stack: list[tuple[Any, tuple[str | int, ...], int]] = [(root, (), 1)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, dict | list) and depth > max_depth:
            raise ApiError(400, f"Invalid '{_path(where)}': nested too deeply. Arrays and objects "
                           f"may nest at most {max_depth} levels.", param=_path(where),
                           code="invalid_value")
        if isinstance(value, dict):
            for key, item in value.items():
                if not _encodable(key):
                    raise _lone_surrogate(_path(where), "a key")
                stack.append((item, (*where, key), depth + 1))
        elif isinstance(value, list):
            stack.extend((item, (*where, index), depth + 1) for index, item in enumerate(value))
        elif isinstance(value, str):
            if not _encodable(value):
                raise _lone_surrogate(_path(where), "the string")
        elif isinstance(value, _TooLargeInteger):
            raise ApiError(400, f"Invalid '{_path(where)}': integer too large. Expected a value "
                           f"that fits in 64 bits, but got a {value.digits}-digit integer "
                           "instead.", param=_path(where), code="integer_above_max_value")
        elif isinstance(value, float) and not math.isfinite(value):
            raise ApiError(400, f"Invalid '{_path(where)}': number too large. Expected a finite "
                           "decimal number.", param=_path(where), code="decimal_above_max_value")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _lone_surrogate(where: str, what: str) -> ApiError:
    return ApiError(400, f"Invalid '{where}': {what} contains a lone surrogate (an unpaired "
                    "\\ud800-\\udfff escape), which is not valid Unicode.", param=where,
                    code="invalid_value")


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# -- the typed request ------------------------------------------------------------------------


def parse_model(model: type[Model], data: Any, *, strict: bool = True) -> Model:
    """``data`` validated as ``model``, or the first problem as an OpenAI-shaped :class:`ApiError`.

    ``strict`` (the default, for JSON bodies) refuses ``"9"`` for an integer and ``1`` for a
    boolean, as the API does; query strings, which are all text, are parsed with it off.
    """
    try:
        return model.model_validate(data, strict=strict)
    except ValidationError as exc:
        raise validation_error(exc) from None


# Tags of the discriminated unions in the request models start with "~"; they are not fields.
TAG = "~"


def rule_error(message: str, *, field: tuple[str | int, ...] = (), param: str | None = None,
               code: str | None = "invalid_value") -> PydanticCustomError:
    """An error a request model's own check raises. ``message`` may contain ``{param}``; the
    field is the check's location plus ``field`` (or exactly ``param``, where OpenAI names it
    its own way)."""
    context: dict[str, Any] = {"message": message, "field": field, "code": code}
    if param is not None:
        context["param"] = param
    return PydanticCustomError("api_rule", "{message}", context)


def param_of(loc: tuple[str | int, ...]) -> str:
    """``("messages", 0, "~user", "content")`` -> ``"messages[0].content"``."""
    return _path(tuple(p for p in loc if not (isinstance(p, str) and p.startswith(TAG))))


_EXPECTED = {
    "string_type": "a string", "int_type": "an integer", "int_from_float": "an integer",
    "float_type": "a decimal", "bool_type": "a boolean", "list_type": "an array",
    "dict_type": "an object", "model_type": "an object", "model_attributes_type": "an object",
    "int_parsing": "an integer", "float_parsing": "a decimal", "bool_parsing": "a boolean",
}


def describe(value: Any) -> str:
    """The JSON kind of ``value`` the way OpenAI's errors name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def shown(value: Any, limit: int = 40) -> str:
    """A refused value for an error message: quoted, and shortened in the middle when long."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if len(text) > limit:
        text = f"{text[: limit // 2]}...{text[-(limit // 2 - 3):]}"
    return f"'{text}'"


def _supported(expected: str) -> str:
    values = [f"'{v}'" for v in re.findall(r"'([^']*)'", expected)]
    if len(values) <= 2:
        return " and ".join(values)
    return ", ".join(values[:-1]) + ", and " + values[-1]


def _bound(bound: Any) -> str:
    return f"{bound:g}" if isinstance(bound, float) else str(bound)


def _number_kind(bound: Any) -> str:
    # Decimal fields are declared with decimal bounds (le=2.0), integer fields with integers.
    return "decimal" if isinstance(bound, float) else "integer"


def validation_error(exc: ValidationError) -> ApiError:
    """The first error of ``exc`` in OpenAI's words (an unknown field is reported last: a
    misspelt name is usually also a missing one, and that says more)."""
    errors = exc.errors(include_url=False)
    first = min(errors, key=lambda e: 1 if e["type"] == "extra_forbidden" else 0)
    return _api_error(first)


def _api_error(error: ErrorDetails) -> ApiError:
    kind, loc, value = error["type"], tuple(error["loc"]), error.get("input")
    context: Mapping[str, Any] = error.get("ctx") or {}
    if kind == "api_rule":  # raised by a model's own check: the message is already written
        param = context.get("param") or param_of((*loc, *context.get("field", ())))
        return ApiError(400, context["message"].replace("{param}", param), param=param,
                        code=context.get("code"))
    param = param_of(loc)
    if kind == "missing":
        return ApiError(400, f"Missing required parameter: '{param}'.", param=param,
                        code="missing_required_parameter")
    if kind == "extra_forbidden":
        if len(loc) == 1:
            return ApiError(400, f"Unrecognized request argument supplied: {param}", param=param,
                            code="unknown_parameter")
        return ApiError(400, f"Unknown parameter: '{param}'.", param=param,
                        code="unknown_parameter")
    if kind in _EXPECTED or kind == "invalid_type":
        expected = context.get("expected") if kind == "invalid_type" else _EXPECTED[kind]
        return ApiError(400, f"Invalid type for '{param}': expected {expected}, but got "
                        f"{describe(value)} instead.", param=param, code="invalid_type")
    if kind in ("literal_error", "enum"):
        if not isinstance(value, str):
            return ApiError(400, f"Invalid type for '{param}': expected a string, but got "
                            f"{describe(value)} instead.", param=param, code="invalid_type")
        return ApiError(400, f"Invalid value: {shown(value)}. Supported values are: "
                        f"{_supported(context.get('expected', ''))}.", param=param,
                        code="invalid_value")
    if kind in ("greater_than_equal", "greater_than"):
        bound = context.get("ge", context.get("gt"))
        sign = ">=" if "ge" in context else ">"
        number = _number_kind(bound)
        return ApiError(400, f"Invalid '{param}': {number} below minimum value. Expected a value "
                        f"{sign} {_bound(bound)}, but got {value} instead.", param=param,
                        code=f"{number}_below_min_value")
    if kind in ("less_than_equal", "less_than"):
        bound = context.get("le", context.get("lt"))
        sign = "<=" if "le" in context else "<"
        number = _number_kind(bound)
        return ApiError(400, f"Invalid '{param}': {number} above maximum value. Expected a value "
                        f"{sign} {_bound(bound)}, but got {value} instead.", param=param,
                        code=f"{number}_above_max_value")
    if kind == "too_short":
        minimum, actual = context.get("min_length"), context.get("actual_length")
        if not actual:
            return ApiError(400, f"Invalid '{param}': empty array. Expected an array with "
                            f"minimum length {minimum}, but got an empty array instead.",
                            param=param, code="empty_array")
        return ApiError(400, f"Invalid '{param}': array too short. Expected an array with "
                        f"minimum length {minimum}, but got an array with length {actual} "
                        "instead.", param=param, code="array_below_min_length")
    if kind == "too_long":
        return ApiError(400, f"Invalid '{param}': array too long. Expected an array with maximum "
                        f"length {context.get('max_length')}, but got an array with length "
                        f"{context.get('actual_length')} instead.", param=param,
                        code="array_above_max_length")
    if kind == "string_too_short":
        return ApiError(400, f"Invalid '{param}': empty string. Expected a string with minimum "
                        f"length {context.get('min_length')}, but got an empty string instead.",
                        param=param, code="empty_string")
    if kind == "string_too_long":
        length = len(value) if isinstance(value, str) else "?"
        return ApiError(400, f"Invalid '{param}': string too long. Expected a string with "
                        f"maximum length {context.get('max_length')}, but got a string with "
                        f"length {length} instead.", param=param, code="string_above_max_length")
    if kind == "string_pattern_mismatch":
        return ApiError(400, f"Invalid '{param}': string does not match pattern. Expected a "
                        f"string that matches the pattern '{context.get('pattern')}'.",
                        param=param, code="invalid_value")
    return ApiError(400, f"Invalid '{param}': {error['msg']}.", param=param, code="invalid_value")
