# Source of exercises/ex04_streaming.ipynb and exercises/solutions/ex04_streaming.ipynb.
# Edit this file, then run: .venv/bin/python scripts/build_exercises.py ex04_streaming
# Top-level `await` is fine in a notebook cell, not in a module:
# ruff: noqa: F704

# %% [markdown]
# # Exercise 4 · Streaming responses, the client side (任务4:流式响应)
#
# The lesson's fourth task. Notebook `09_streaming_sse` built the server: `POST /chat/stream`
# relays the model's answer as server-sent events, one JSON object per `data:` line:
#
# ```
# : ping
#
# data: {"type":"token","content":"To reset"}
#
# data: {"type":"done","usage":{"prompt_tokens":31,"completion_tokens":3},"finish_reason":"stop"}
# ```
#
# Now write the other end, the part a user experiences:
#
# | | you write | the check asks |
# |---|---|---|
# | q1 | `SSEParser().feed(text)` | are events found however the network splits the body? |
# | q2 | `summarise_stream(timed_chunks)` | the text, the time to first token, and how it ended |
#
# The lesson's interview question is the reason for q2: once `200 OK` and the first token are
# sent, the status code cannot report a failure any more, so the stream must (an `error` event),
# and a stream that simply stops, with neither `done` nor `error`, is **truncated**.
#
# **How it works.** Each ✏️ **YOUR CODE** cell holds a stub that raises `NotImplementedError`.
# Replace it, run the cell, then run the `check(...)` cell below it: ✅ passed, ⏳ not done yet,
# or ❌ not yet right, with the input that failed, what was expected, what came back and a hint.
# `hint("ex04.q1")` gives one more hint each time you run it.

# %%
import json
import time

import httpx2
import openai

from course_lib import llm, sandbox
from course_lib.checks import check, hint, preview
from course_lib.streaming import start_stream_server
from course_lib.tracker import CostTracker

# %% [markdown]
# ## q1 · An SSE parser that survives any split
#
# A network read returns whatever bytes have arrived: half a line, three events, the blank line
# of one event and the start of the next. Write a class `SSEParser` whose `feed(text)` takes the
# next piece and returns a list of the events it **completed**, each decoded from JSON (a dict):
#
# * lines end in `\n` (or `\r\n`); keep an unfinished line for the next `feed`;
# * a line `data: <text>` adds `<text>` to the current event (several are joined with `\n`);
# * a line starting with `:` is a comment (a heartbeat): ignore it;
# * a **blank line** completes the event: decode its data with `json.loads` and return it from
#   this `feed` call. An event whose blank line never arrives is not complete.

# %%
# ✏️ YOUR CODE: keep the unfinished line between feeds; a blank line completes an event.
class SSEParser:
    """Turns SSE text, fed in arbitrary pieces, into decoded events."""

    def __init__(self):
        ### BEGIN SOLUTION
        self.buffer = ""  # the unfinished last line
        self.data_lines = []  # data: lines of the event being read
        ### END SOLUTION
        ### BEGIN STUB
        raise NotImplementedError(
            "write __init__: a parser that remembers nothing yet, ready for the first "
            "feed()"
        )
        ### END STUB

    def feed(self, text):
        """The events (decoded JSON) that ``text`` completes, in order."""
        ### BEGIN SOLUTION
        lines = (self.buffer + text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.buffer = lines.pop()  # after the last "\n": not a whole line yet
        events = []
        for line in lines:
            if line == "":
                if self.data_lines:
                    events.append(json.loads("\n".join(self.data_lines)))
                    self.data_lines = []
            elif line.startswith(":"):
                continue  # a comment: a heartbeat
            elif line.startswith("data:"):
                self.data_lines.append(line[len("data:"):].removeprefix(" "))
        return events
        ### END SOLUTION
        ### BEGIN STUB
        raise NotImplementedError(
            "write feed(text): the events this piece of the body completes, decoded, however "
            "the body was split"
        )
        ### END STUB


# %%
check("ex04.q1", SSEParser)

# %% [markdown]
# ## q2 · What did the user see?
#
# `timed_chunks` is a list of `(at_s, text)`: each piece of the body as it arrived, `at_s`
# seconds after the request was sent. Feed them to your parser, in order, and return a dict:
#
# | key | value |
# |---|---|
# | `"text"` | the `content` of every `token` event, joined |
# | `"ttft_s"` | the `at_s` of the chunk whose `feed` returned the first `token` event, or `None` |
# | `"ended"` | `"done"` after `done`, `"error"` after `error`, else `"truncated"` |
# | `"error"` | the `error` event's `message`, else `None` |
# | `"usage"` | the `done` event's `usage`, else `None` |
#
# Heartbeats arrive before the first token but are not text. Without `done` or `error` the
# answer on screen is not the whole answer, whatever the status code said.

# %%
# ✏️ YOUR CODE: feed the chunks in order; note when the first token came and how it ended.
def summarise_stream(timed_chunks):
    """What the user saw: text, ttft_s, ended, error and usage."""
    ### BEGIN SOLUTION
    parser = SSEParser()
    summary = {"text": "", "ttft_s": None, "ended": "truncated", "error": None, "usage": None}
    for at_s, text in timed_chunks:
        for event in parser.feed(text):
            if event["type"] == "token":
                if summary["ttft_s"] is None:
                    summary["ttft_s"] = at_s
                summary["text"] += event["content"]
            elif event["type"] == "done":
                summary["ended"], summary["usage"] = "done", event["usage"]
            elif event["type"] == "error":
                summary["ended"], summary["error"] = "error", event["message"]
    return summary
    ### END SOLUTION
    ### BEGIN STUB
    raise NotImplementedError(
        "write summarise_stream(timed_chunks): the text the user saw, when its first token "
        "arrived, and how the stream ended"
    )
    ### END STUB


# %%
check("ex04.q2", summarise_stream)

# %% [markdown]
# ## Try it: a real stream, and a broken one
#
# The course's streaming server (notebook 09) relaying a private sandbox at 0.2 × real-time
# latency, with a heartbeat every 10 ms so a few arrive before the first token. The cell below
# records the raw body, piece by piece, the way your parser meets it; then it asks the sandbox
# to cut the next answer midway. (No learner code runs here: the cell after it uses yours.)

# %%
async def record_stream(url, question):
    # The raw body of one streamed answer: [(seconds since the request, text), ...].
    chunks = []
    async with httpx2.AsyncClient(timeout=10) as http:
        started = time.perf_counter()
        async with http.stream("POST", url + "/chat/stream",
                               json={"message": question}) as response:
            async for text in response.aiter_text():
                chunks.append((round(time.perf_counter() - started, 4), text))
    return chunks


QUESTION = "How do I reset my password?"
with sandbox.start(time_scale=0.2, seed=4) as private_sandbox:
    def model_client():
        return openai.AsyncOpenAI(base_url=private_sandbox.base_url,
                                  api_key=llm.SANDBOX_API_KEY, max_retries=0)

    with start_stream_server(client=model_client, tracker=CostTracker(), model="gpt-4o-mini",
                             heartbeat_s=0.01,
                             extra_body={"sandbox": {"answer_tokens": 40}}) as server:
        whole = await record_stream(server.url, QUESTION)
        private_sandbox.faults.script("cut", model="gpt-4o-mini")
        cut = await record_stream(server.url, QUESTION)

print(f"{len(whole)} reads for the whole answer; the first three:")
for at_s, text in whole[:3]:
    print(f"  {1000 * at_s:6.1f} ms  {text!r}")

# %%
def try_streams():
    lines = []
    for name, chunks in (("whole answer", whole), ("cut by the model", cut)):
        seen = summarise_stream(chunks)
        ttft = "none" if seen["ttft_s"] is None else f"{1000 * seen['ttft_s']:.0f} ms"
        total = 1000 * chunks[-1][0]
        lines.append(f"{name}: ended {seen['ended']!r}, first token after {ttft} of "
                     f"{total:.0f} ms, {len(seen['text'])} characters shown")
        if seen["error"]:
            lines.append(f"  error shown to the user: {seen['error']}")
    return "\n".join(lines)


preview(try_streams)

# %% [markdown]
# **Done?** Compare with `course_lib.streaming.SSEParser` and `stream_chat` (notebook
# `09_streaming_sse`): the same rules, plus `\r` line ends split across reads and heartbeats
# kept as timed events. In production an SSE client library such as `httpx-sse` parses the
# body for you; what it cannot decide for you is that a stream without `done` is a failure.
