"""Token counts: offline tiktoken, OpenAI's chat-counting rules, Chinese text, unknown models."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from course_lib import tokens
from course_lib.tokens import UnknownModelError, count_chat_tokens, count_tokens

# OpenAI cookbook, "How to count tokens with tiktoken", section 6: the API reported 124 prompt
# tokens for gpt-4o and gpt-4o-mini and 129 for gpt-4 / gpt-3.5-turbo on these messages.
COOKBOOK_MESSAGES = [
    {"role": "system", "content": "You are a helpful, pattern-following assistant that translates "
     "corporate jargon into plain English."},
    {"role": "system", "name": "example_user",
     "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant",
     "content": "Things working well together will increase revenue."},
    {"role": "system", "name": "example_user", "content": "Let's circle back when we have more "
     "bandwidth to touch base on opportunities for increased leverage."},
    {"role": "system", "name": "example_assistant",
     "content": "Let's talk later when we're less busy about how to do better."},
    {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for "
     "the client deliverable."},
]

# Section 7: with this tool the API reported 101 prompt tokens (gpt-4o, gpt-4o-mini) and 105
# (gpt-4, gpt-3.5-turbo).
COOKBOOK_TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string",
                             "description": "The city and state, e.g. San Francisco, CA"},
                "unit": {"type": "string", "description": "The unit of temperature to return",
                         "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}]
COOKBOOK_TOOL_MESSAGES = [
    {"role": "system",
     "content": "You are a helpful assistant that can answer to questions about the weather."},
    {"role": "user", "content": "What's the weather like in San Francisco?"},
]


@pytest.mark.parametrize(("model", "api_count"), [
    ("gpt-4o", 124), ("gpt-4o-mini", 124), ("gpt-4o-2024-08-06", 124),
    ("gpt-4", 129), ("gpt-3.5-turbo", 129),
])
def test_chat_count_matches_api_reported_count(model: str, api_count: int) -> None:
    assert count_chat_tokens(COOKBOOK_MESSAGES, model) == api_count


@pytest.mark.parametrize(("model", "api_count"), [
    ("gpt-4o", 101), ("gpt-4o-mini", 101), ("gpt-4", 105), ("gpt-3.5-turbo", 105),
])
def test_chat_count_with_tools_matches_api_reported_count(model: str, api_count: int) -> None:
    assert count_chat_tokens(COOKBOOK_TOOL_MESSAGES, model, tools=COOKBOOK_TOOLS) == api_count


def test_framing_rules_per_message_name_and_priming() -> None:
    one = [{"role": "user", "content": "hello"}]
    content = count_tokens("hello") + count_tokens("user")
    assert count_chat_tokens(one) == content + 3 + 3
    named = [{"role": "user", "name": "ana", "content": "hello"}]
    assert count_chat_tokens(named) == content + count_tokens("ana") + 1 + 3 + 3


def test_text_parts_count_like_plain_content() -> None:
    plain = [{"role": "user", "content": "first part second part"}]
    parts = [{"role": "user", "content": [{"type": "text", "text": "first part "},
                                          {"type": "text", "text": "second part"}]}]
    assert count_chat_tokens(parts) == count_chat_tokens(plain)


def test_image_part_is_refused_with_a_clear_error() -> None:
    message = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]
    with pytest.raises(ValueError, match="image_url"):
        count_chat_tokens(message)


def test_chinese_counts_tokens_not_characters_or_bytes() -> None:
    text = "如何重置我的密码?"
    n = count_tokens(text, "gpt-4o")
    # o200k has many whole-word Chinese tokens: fewer tokens than characters, far fewer than
    # the 27 UTF-8 bytes the lesson's Go code would see.
    assert 0 < n < len(text) < len(text.encode())
    # Both encodings agree with their own decoders: nothing is lost or invented.
    for model in ("gpt-4o", "gpt-4"):
        encoding = tokens.encoding_for(model)
        assert encoding.decode(encoding.encode(text)) == text
    # cl100k (gpt-4) splits Chinese more finely than o200k (gpt-4o).
    assert count_tokens(text, "gpt-4") > n


def test_known_english_counts() -> None:
    # Hand-checked: "hello world" is 2 tokens in both encodings; "tiktoken is great!" is 6 in
    # cl100k_base (the tiktoken README's example: t, ik, token, is, great, !).
    assert count_tokens("hello world", "gpt-4o") == 2
    assert count_tokens("tiktoken is great!", "gpt-4") == 6


def test_unknown_model_is_a_clear_error_naming_it() -> None:
    with pytest.raises(UnknownModelError, match="gpt-17-turbo") as info:
        count_tokens("hi", "gpt-17-turbo")
    assert "gpt-4o" in str(info.value)
    assert isinstance(info.value, KeyError)


def test_unknown_model_with_fallback_encoding_warns_and_counts() -> None:
    with pytest.warns(UserWarning, match="estimate"):
        n = count_tokens("hello world", "my-local-llama", fallback_encoding="o200k_base")
    assert n == count_tokens("hello world", "gpt-4o")


def test_dated_snapshots_resolve_to_their_family() -> None:
    assert tokens.encoding_name_for("gpt-4o-2024-05-13") == "o200k_base"
    assert tokens.encoding_name_for("gpt-4o-mini-2024-07-18") == "o200k_base"
    assert tokens.encoding_name_for("text-embedding-3-small") == "cl100k_base"


def test_bad_arguments() -> None:
    with pytest.raises(TypeError):
        count_tokens(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty"):
        count_tokens("x", "")
    with pytest.raises(ValueError, match="role"):
        count_chat_tokens([{"content": "no role"}])


def test_special_token_text_is_counted_as_ordinary_text() -> None:
    assert count_tokens("<|endoftext|>") > 1


def test_seeded_cache_works_offline_and_keeps_the_sha256_check(tmp_path) -> None:
    """A fresh process with an empty cache dir counts tokens without any network access."""
    cache = tmp_path / "tiktoken"
    code = (
        "import socket\n"
        "def no_network(*a, **k): raise RuntimeError('network used')\n"
        "socket.socket.connect = no_network\n"
        "socket.getaddrinfo = no_network\n"
        "from course_lib.tokens import count_tokens\n"
        "print(count_tokens('hello world', 'gpt-4o'), count_tokens('hello world', 'gpt-4'))\n"
    )
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["2", "2"]
    url = tokens.ENCODING_BLOB_URLS["o200k_base"]
    seeded = cache / hashlib.sha1(url.encode()).hexdigest()
    assert seeded.exists()
    # tiktoken verifies the seeded file: a corrupted one is rejected (it would then try to
    # download, which we forbid), never used.
    seeded.write_bytes(b"corrupted")
    (cache / hashlib.sha1(tokens.ENCODING_BLOB_URLS["cl100k_base"].encode()).hexdigest()).unlink()
    code_no_seed = code.replace("from course_lib.tokens import count_tokens\n",
                                "import tiktoken\n"
                                "count_tokens = lambda t, m: "
                                "len(tiktoken.get_encoding('o200k_base').encode(t))\n")
    failed = subprocess.run([sys.executable, "-c", code_no_seed], env=env, capture_output=True,
                            text=True)
    assert failed.returncode != 0
    assert "network used" in failed.stderr  # it tried to fetch a good copy instead
    assert not seeded.exists()  # and threw the bad one away


# --- tool conversations: the course's documented convention ------------------------------


def _n(text: str, model: str = "gpt-4o") -> int:
    return len(tokens.encoding_for(model).encode(text))


def test_tool_calls_cost_their_name_plus_their_arguments() -> None:
    calls = [{"id": "call_1", "type": "function",
              "function": {"name": "ticket_status", "arguments": '{"ticket_id":10427}'}},
             {"id": "call_2", "type": "function",
              "function": {"name": "user_profile", "arguments": '{"user_id":42}'}}]
    expected = (_n("ticket_status") + _n('{"ticket_id":10427}') + _n("user_profile")
                + _n('{"user_id":42}'))
    assert tokens.count_tool_call_tokens(calls, "gpt-4o") == expected
    assistant = [{"role": "assistant", "content": None, "tool_calls": calls}]
    assert count_chat_tokens(assistant) == 3 + _n("assistant") + expected + 3


def test_a_tool_result_costs_its_content_and_call_id_inside_the_framing() -> None:
    result = [{"role": "tool", "tool_call_id": "call_1", "content": '{"status": "open"}'}]
    assert count_chat_tokens(result) == (3 + _n("tool") + _n('{"status": "open"}')
                                         + _n("call_1") + 3)


def test_fields_the_api_does_not_render_are_not_counted() -> None:
    plain = [{"role": "assistant", "content": "Done."}]
    as_sent_back = [{"role": "assistant", "content": "Done.", "refusal": "no",
                     "annotations": [], "audio": None, "function_call": None}]
    assert count_chat_tokens(as_sent_back) == count_chat_tokens(plain)


def test_a_type_list_is_rendered_as_alternatives() -> None:
    def tool(kind):
        return [{"type": "function", "function": {"name": "f", "parameters": {
            "type": "object", "properties": {"x": {"type": kind}}}}}]

    as_list = tokens.count_tool_tokens(tool(["string", "null"]))
    as_text = tokens.count_tool_tokens(tool("string | null"))
    assert as_list == as_text


def test_a_tool_that_is_not_an_object_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="tool 0 must be"):
        tokens.count_tool_tokens([1])  # type: ignore[list-item]
