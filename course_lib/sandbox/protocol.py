"""The OpenAI wire format the sandbox speaks: every request parsed once, into a typed request.

This is the sandbox's one validation layer. A request body is decoded by
:func:`course_lib.http_edge.read_json` (content type, size, nesting, integer size, Unicode) and
then parsed here into a :class:`ChatRequest` or an :class:`EmbeddingRequest`: types, ranges,
list lengths, the shape of tools and tool calls, and the rules that tie a conversation together
(a ``tool`` message answers a call of the assistant message before it; every call is
answered). Whatever passes is what the endpoints, the token counter and the simulated model
work with, and they check nothing again. Whatever does not pass is a 4xx error in OpenAI's
shape and, where OpenAI has one, in OpenAI's words, naming the field
(``messages[1].tool_calls[0].function``), so a learner sees what the real API would say.

Parameters the sandbox accepts but does not simulate (``seed``, ``stop``, ``logit_bias``,
``response_format`` ...) are still typed, so a malformed one is refused as the API would; an
unknown parameter is refused with OpenAI's "Unrecognized request argument supplied".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    JsonValue,
    Tag,
    model_validator,
)

from course_lib.http_edge import ApiError, describe, parse_model, rule_error
from course_lib.sandbox.faults import FAULT_KINDS, FaultKind
from course_lib.sandbox.profiles import MODEL_PROFILES, ModelProfile, profile_for

__all__ = [
    "MAX_BODY_BYTES",
    "AssistantMessage",
    "ChatRequest",
    "EmbeddingRequest",
    "FunctionTool",
    "Message",
    "StatsQuery",
    "ToolCall",
    "ToolMessage",
    "chat_profile",
    "check_context_window",
    "check_dimensions",
    "check_embedding_tokens",
    "embedding_profile",
    "embedding_texts",
    "message_text",
    "parse_chat_request",
    "parse_embedding_request",
    "requested_fault",
]

# Bodies above this are refused before parsing: a guard against a client that sends megabytes.
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_MESSAGES = 2048
MAX_CONTENT_PARTS = 2048
MAX_TOOLS = 128  # OpenAI's limit
MAX_TOOL_CALLS = 128
MAX_TOOL_CALL_ID = 40  # OpenAI's limit on tool_call_id
EMBEDDING_MAX_INPUTS = 2048
EMBEDDING_MAX_INPUT_TOKENS = 8192
EMBEDDING_MAX_REQUEST_TOKENS = 300_000
MAX_ANSWER_TOKENS = 16_384


class _Part(BaseModel):
    """A piece of a request; fields the sandbox does not read are ignored, as the API does
    with the extra fields of a message an SDK sends back (``annotations``, ``audio`` ...)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class _Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def _json_kind(value: Any) -> str | None:
    """The tag of a ``str | list`` union: which JSON kind ``value`` is."""
    if value is None:
        return "~null"
    if isinstance(value, str):
        return "~string"
    if isinstance(value, list):
        return "~array"
    if isinstance(value, dict):
        return "~object"
    return None


# A union with a discriminator cannot be combined with "| None" (pydantic hashes the members),
# so an optional one carries null as a member of its own.
_NULL = Annotated[None, Tag("~null")]


def _one_of(expected: str) -> Discriminator:
    return Discriminator(_json_kind, custom_error_type="invalid_type",
                         custom_error_message=f"expected {expected}",
                         custom_error_context={"expected": expected})


class TextPart(_Part):
    """A text content part; the sandbox reads text only (it cannot see images or audio)."""

    type: Literal["text"]
    text: str


_TEXT = (Annotated[str, Tag("~string")]
         | Annotated[Annotated[list[TextPart], Field(min_length=1, max_length=MAX_CONTENT_PARTS)],
                     Tag("~array")])
Text = Annotated[_TEXT, _one_of("a string or an array of content parts")]
TextOrNull = Annotated[_TEXT | _NULL, _one_of("a string or an array of content parts")]
Name = Annotated[str, Field(max_length=256)]


class SystemMessage(_Part):
    role: Literal["system"]
    content: Text
    name: Name | None = None


class DeveloperMessage(_Part):
    role: Literal["developer"]
    content: Text
    name: Name | None = None


class UserMessage(_Part):
    role: Literal["user"]
    content: Text
    name: Name | None = None


class FunctionCall(_Part):
    name: str
    arguments: str


class ToolCall(_Part):
    """One call the assistant asked for: ``{"id", "type": "function", "function": {...}}``."""

    id: Annotated[str, Field(min_length=1, max_length=MAX_TOOL_CALL_ID)]
    type: Literal["function"]
    function: FunctionCall


class AssistantMessage(_Part):
    role: Literal["assistant"]
    content: TextOrNull = None
    name: Name | None = None
    tool_calls: Annotated[list[ToolCall], Field(min_length=1, max_length=MAX_TOOL_CALLS)] | None \
        = None
    refusal: str | None = None

    @model_validator(mode="after")
    def _says_something(self) -> AssistantMessage:
        if self.content is None and not self.tool_calls:
            raise rule_error("Missing required parameter: '{param}'. An assistant message needs "
                             "'content' or 'tool_calls'.", field=("content",),
                             code="missing_required_parameter")
        return self


class ToolMessage(_Part):
    role: Literal["tool"]
    content: Text
    tool_call_id: Annotated[str, Field(max_length=MAX_TOOL_CALL_ID)]


class FunctionMessage(_Part):
    """The deprecated predecessor of ``tool`` messages, still accepted by the API."""

    role: Literal["function"]
    name: Name
    content: str | None


class _InvalidRole(_Part):
    """Where a message with no valid ``role`` is sent, so its error says what is wrong."""

    role: Literal["system", "assistant", "user", "function", "tool", "developer"]


_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def _role_tag(value: Any) -> str:
    role = value.get("role") if isinstance(value, dict) else None
    return f"~{role}" if isinstance(role, str) and role in _ROLES else "~invalid"


Message = Annotated[
    Annotated[SystemMessage, Tag("~system")]
    | Annotated[DeveloperMessage, Tag("~developer")]
    | Annotated[UserMessage, Tag("~user")]
    | Annotated[AssistantMessage, Tag("~assistant")]
    | Annotated[ToolMessage, Tag("~tool")]
    | Annotated[FunctionMessage, Tag("~function")]
    | Annotated[_InvalidRole, Tag("~invalid")],
    Discriminator(_role_tag),
]


def message_text(message: Any) -> str:
    """The text of a message's content (text parts joined), "" when it has none."""
    content = getattr(message, "content", None)
    if isinstance(content, list):
        return "".join(part.text for part in content)
    return content or ""


# -- tools ------------------------------------------------------------------------------------


def _schema_problem(parameters: Mapping[str, Any]) -> str | None:
    """What is wrong with a function's ``parameters`` JSON Schema, as far as the sandbox reads
    it (the top-level object and its properties), or None."""
    if parameters.get("type") != "object":
        return ("schema must be a JSON Schema of 'type: \"object\"', got 'type: "
                f"\"{parameters.get('type')}\"'")
    properties = parameters.get("properties", {})
    if not isinstance(properties, dict):
        return "'properties' must be an object mapping each parameter name to its schema"
    for name, spec in properties.items():
        if not isinstance(spec, dict):
            return f"the schema of property '{name}' must be an object"
        kind = spec.get("type")
        if kind is not None and not (isinstance(kind, str) or (
                isinstance(kind, list) and all(isinstance(k, str) for k in kind))):
            return f"the 'type' of property '{name}' must be a string or an array of strings"
        if not isinstance(spec.get("description", ""), str):
            return f"the 'description' of property '{name}' must be a string"
        if not isinstance(spec.get("enum", []), list):
            return f"the 'enum' of property '{name}' must be an array"
    required = parameters.get("required", [])
    if not (isinstance(required, list) and all(isinstance(r, str) for r in required)):
        return "'required' must be an array of property names"
    return None


class FunctionDefinition(_Part):
    name: Annotated[str, Field(max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")]
    description: str | None = None
    parameters: dict[str, JsonValue] | None = None
    strict: bool | None = None

    @model_validator(mode="after")
    def _schema_is_readable(self) -> FunctionDefinition:
        # {} is a function without parameters; anything else must be an object schema.
        problem = _schema_problem(self.parameters) if self.parameters else None
        if problem is not None:
            raise rule_error(f"Invalid schema for function '{self.name}': {problem}.",
                             field=("parameters",), code="invalid_function_parameters")
        return self

    @property
    def properties(self) -> dict[str, Any]:
        return (self.parameters or {}).get("properties") or {}  # type: ignore[return-value]

    @property
    def required(self) -> list[str]:
        return list((self.parameters or {}).get("required") or [])  # type: ignore[arg-type]


class FunctionTool(_Part):
    type: Literal["function"]
    function: FunctionDefinition


class NamedFunction(_Part):
    name: str


class NamedToolChoice(_Part):
    """``{"type": "function", "function": {"name": ...}}``: call exactly this function."""

    type: Literal["function"]
    function: NamedFunction


ToolChoice = Annotated[
    Annotated[Literal["none", "auto", "required"], Tag("~string")]
    | Annotated[NamedToolChoice, Tag("~object")]
    | _NULL,
    _one_of("a string or an object"),
]


# -- the chat request -------------------------------------------------------------------------


class StreamOptions(_Part):
    include_usage: bool | None = None


class SandboxOptions(_Request):
    """Sandbox-only extras: ``extra_body={"sandbox": {"answer_tokens": 300}}``."""

    answer_tokens: Annotated[int, Field(ge=1, le=MAX_ANSWER_TOKENS)] | None = None


Penalty = Annotated[float, Field(ge=-2.0, le=2.0)]
StopSequences = Annotated[
    Annotated[str, Tag("~string")]
    | Annotated[Annotated[list[str], Field(max_length=4)], Tag("~array")]
    | _NULL,
    _one_of("a string or an array of strings"),
]


class ChatRequest(_Request):
    """``POST /v1/chat/completions``, typed. Parsed by :func:`parse_chat_request`."""

    model: str
    messages: Annotated[list[Message], Field(min_length=1, max_length=MAX_MESSAGES)]
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1)] | None = None
    n: Annotated[int, Field(ge=1, le=128)] | None = None
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] | None = None
    top_p: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    tools: Annotated[list[FunctionTool], Field(min_length=1, max_length=MAX_TOOLS)] | None = None
    tool_choice: ToolChoice = None
    parallel_tool_calls: bool | None = None
    sandbox: SandboxOptions | None = None
    # Accepted, typed, not simulated.
    frequency_penalty: Penalty | None = None
    presence_penalty: Penalty | None = None
    seed: int | None = None
    stop: StopSequences = None
    user: str | None = None
    logit_bias: dict[str, Annotated[float, Field(ge=-100.0, le=100.0)]] | None = None
    logprobs: bool | None = None
    top_logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    response_format: dict[str, JsonValue] | None = None
    metadata: dict[str, Annotated[str, Field(max_length=512)]] | None = None
    store: bool | None = None
    service_tier: str | None = None
    prompt_cache_key: str | None = None
    safety_identifier: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ChatRequest:
        if self.stream_options is not None and not self.stream:
            raise rule_error("The 'stream_options' parameter is only allowed when 'stream' is "
                             "enabled.", param="stream_options")
        if self.n not in (None, 1):
            raise rule_error("The sandbox generates one choice per request: 'n' must be 1.",
                             param="n")
        for option in ("tool_choice", "parallel_tool_calls"):
            if getattr(self, option) is not None and not self.tools:
                raise rule_error(f"Invalid value for '{option}': '{option}' is only allowed "
                                 "when 'tools' are specified.", param=option)
        if isinstance(self.tool_choice, NamedToolChoice):
            wanted = self.tool_choice.function.name
            if wanted not in self.tool_names:
                raise rule_error(f"Tool choice '{wanted}' not found in 'tools' parameter.",
                                 param="tool_choice")
        _check_tool_conversation(self.messages)
        return self

    @property
    def tool_names(self) -> list[str]:
        return [tool.function.name for tool in self.tools or []]

    @property
    def completion_limit(self) -> int | None:
        """The answer's token limit (``max_completion_tokens`` wins over ``max_tokens``)."""
        return self.max_completion_tokens or self.max_tokens

    @property
    def answer_tokens(self) -> int | None:
        return self.sandbox.answer_tokens if self.sandbox else None

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)

    def message_dicts(self) -> list[dict[str, Any]]:
        """The messages as plain dicts, for :func:`course_lib.tokens.count_chat_tokens`."""
        return [m.model_dump(exclude_none=True) for m in self.messages]

    def tool_dicts(self) -> list[dict[str, Any]] | None:
        return [t.model_dump(exclude_none=True) for t in self.tools] if self.tools else None


def _check_tool_conversation(messages: list[Any]) -> None:
    """OpenAI's rules for a conversation with tool calls, in OpenAI's words (and with its
    ``messages.[i]`` way of naming a message in these errors)."""
    pending: dict[str, int] = {}  # call id -> index of the assistant message that made it
    answered: set[str] = set()
    for index, message in enumerate(messages):
        if isinstance(message, ToolMessage):
            if not pending and not answered:
                raise rule_error("Invalid parameter: messages with role 'tool' must be a "
                                 "response to a preceeding message with 'tool_calls'.",
                                 param=f"messages.[{index}].role", code=None)
            if message.tool_call_id not in pending:
                raise rule_error(f"Invalid parameter: 'tool_call_id' of "
                                 f"'{message.tool_call_id}' not found in 'tool_calls' of "
                                 "previous message.", param=f"messages.[{index}].tool_call_id",
                                 code=None)
            del pending[message.tool_call_id]
            answered.add(message.tool_call_id)
            continue
        if pending:
            _unanswered(pending)
        answered = set()
        if isinstance(message, AssistantMessage) and message.tool_calls:
            pending = {call.id: index for call in message.tool_calls}
    if pending:
        _unanswered(pending)


def _unanswered(pending: dict[str, int]) -> None:
    index = next(iter(pending.values()))
    raise rule_error("An assistant message with 'tool_calls' must be followed by tool messages "
                     "responding to each 'tool_call_id'. The following tool_call_ids did not "
                     f"have response messages: {', '.join(pending)}",
                     param=f"messages.[{index}].role", code=None)


def parse_chat_request(data: Any) -> ChatRequest:
    """A decoded chat body as a :class:`ChatRequest`, or the :class:`ApiError` to answer."""
    return parse_model(ChatRequest, _object(data))


def _object(data: Any) -> Any:
    if not isinstance(data, dict):
        raise ApiError(400, "We could not parse the JSON body of your request. (HINT: the body "
                       f"must be a JSON object, not {describe(data)}.)")
    return data


# -- embeddings -------------------------------------------------------------------------------


def _input_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "~string"
    if not isinstance(value, list):
        return None
    if value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return "~tokens"
    if value and isinstance(value[0], list):
        return "~token_arrays"
    return "~strings"


TokenIds = Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)]
EmbeddingInput = Annotated[
    Annotated[Annotated[str, Field(min_length=1)], Tag("~string")]
    | Annotated[TokenIds, Tag("~tokens")]
    | Annotated[Annotated[list[Annotated[str, Field(min_length=1)]],
                          Field(min_length=1, max_length=EMBEDDING_MAX_INPUTS)], Tag("~strings")]
    | Annotated[Annotated[list[TokenIds], Field(min_length=1, max_length=EMBEDDING_MAX_INPUTS)],
                Tag("~token_arrays")],
    Discriminator(_input_tag, custom_error_type="invalid_type",
                  custom_error_message="expected a string or an array",
                  custom_error_context={"expected": "a string, an array of strings, or an array "
                                                    "of token arrays"}),
]


class EmbeddingRequest(_Request):
    """``POST /v1/embeddings``, typed. Parsed by :func:`parse_embedding_request`."""

    model: str
    input: EmbeddingInput
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: Annotated[int, Field(ge=1)] | None = None
    user: str | None = None

    def inputs(self) -> list[str] | list[list[int]]:
        """Every input: a list of texts, or a list of token-id arrays."""
        value = self.input
        if isinstance(value, str):
            return [value]
        if value and isinstance(value[0], int):
            return [value]  # type: ignore[list-item]  # one input given as token ids
        return value  # type: ignore[return-value]


def parse_embedding_request(data: Any) -> EmbeddingRequest:
    """A decoded embeddings body as an :class:`EmbeddingRequest`, or the :class:`ApiError`."""
    return parse_model(EmbeddingRequest, _object(data))


def embedding_texts(request: EmbeddingRequest, encoding: Any) -> list[str]:
    """Every input as text; token ids must be in the model's vocabulary."""
    texts = []
    for index, item in enumerate(request.inputs()):
        if isinstance(item, str):
            texts.append(item)
        elif max(item) >= encoding.n_vocab:
            raise ApiError(400, f"Invalid 'input[{index}]': token id {max(item)} is not in the "
                           f"model's vocabulary (ids run from 0 to {encoding.n_vocab - 1}).",
                           param=f"input[{index}]", code="invalid_value")
        else:
            texts.append(encoding.decode(item))
    return texts


def check_embedding_tokens(counts: list[int]) -> None:
    """The API's limits: 8,192 tokens per input and 300,000 per request."""
    for index, count in enumerate(counts):
        if count > EMBEDDING_MAX_INPUT_TOKENS:
            raise ApiError(400, f"Invalid 'input[{index}]': {count} tokens; the maximum input "
                           f"length is {EMBEDDING_MAX_INPUT_TOKENS} tokens.",
                           param=f"input[{index}]", code="context_length_exceeded")
    if sum(counts) > EMBEDDING_MAX_REQUEST_TOKENS:
        raise ApiError(400, f"Requested {sum(counts)} tokens in one request; the maximum is "
                       f"{EMBEDDING_MAX_REQUEST_TOKENS} tokens per request.", param="input",
                       code="max_tokens_per_request")


def check_dimensions(dimensions: int | None, available: int) -> None:
    if dimensions is not None and dimensions > available:
        raise ApiError(400, f"Invalid 'dimensions': {dimensions}. The sandbox's embedding model "
                       f"(all-MiniLM-L6-v2) has {available} dimensions.", param="dimensions",
                       code="invalid_value")


# -- models, context, faults ------------------------------------------------------------------


def _profile(model: str, kind: str) -> ModelProfile:
    profile = profile_for(model)
    if profile is None:
        served = ", ".join(sorted(MODEL_PROFILES))
        raise ApiError(404, f"The model `{model[:256]}` does not exist or you do not have access "
                       f"to it. (The sandbox serves: {served}.)", param="model",
                       code="model_not_found")
    if profile.kind != kind:
        article = "an" if profile.kind == "embedding" else "a"
        raise ApiError(400, f"The model '{model}' is {article} {profile.kind} model and cannot "
                       "be used with this endpoint.", param="model", code="invalid_model")
    return profile


def chat_profile(model: str) -> ModelProfile:
    """The profile of a chat model the sandbox serves (404 for any other name)."""
    return _profile(model, "chat")


def embedding_profile(model: str) -> ModelProfile:
    return _profile(model, "embedding")


def check_context_window(prompt_tokens: int, completion_limit: int | None,
                         profile: ModelProfile) -> None:
    requested = prompt_tokens + (completion_limit or 0)
    if requested <= profile.context_window:
        return
    if completion_limit is None:
        message = (f"This model's maximum context length is {profile.context_window} tokens. "
                   f"However, your messages resulted in {prompt_tokens} tokens. Please reduce "
                   "the length of the messages.")
    else:
        message = (f"This model's maximum context length is {profile.context_window} tokens. "
                   f"However, you requested {requested} tokens ({prompt_tokens} in the "
                   f"messages, {completion_limit} in the completion). Please reduce the length "
                   "of the messages or completion.")
    raise ApiError(400, message, param="messages", code="context_length_exceeded")


def requested_fault(headers: Mapping[str, str]) -> FaultKind | None:
    """The ``X-Sandbox-Fault`` header of a request, checked."""
    value = headers.get("x-sandbox-fault")
    if value is not None and value not in FAULT_KINDS:
        raise ApiError(400, f"Invalid 'X-Sandbox-Fault': {value[:40]!r}. Supported values are: "
                       f"{', '.join(FAULT_KINDS)}.", param="X-Sandbox-Fault",
                       code="invalid_value")
    return value  # type: ignore[return-value]


class StatsQuery(BaseModel):
    """``GET /sandbox/stats?last=N``: the last N records (0 to all the sandbox keeps)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    last: Annotated[int, Field(ge=0, le=50_000)] = 200
