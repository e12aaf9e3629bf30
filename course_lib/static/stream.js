// The course's streaming page: POST a question, read the SSE body as it arrives, time it.
//
// EventSource cannot POST, so the body of a fetch() is read with a ReadableStream reader and
// parsed here. Every stream must end with a "done" or an "error" event; a body that just stops
// is shown as an incomplete answer, never as a finished one.
"use strict";

const $ = (id) => document.getElementById(id);

// Splits SSE text (fed in arbitrary pieces) into events and comments.
class SSEParser {
  constructor(onEvent, onComment) {
    this.partial = "";
    this.data = [];
    this.onEvent = onEvent;
    this.onComment = onComment;
  }

  feed(text) {
    const lines = (this.partial + text).replace(/\r\n?/g, "\n").split("\n");
    this.partial = lines.pop();
    for (const line of lines) {
      if (line === "") {
        if (this.data.length) this.onEvent(this.data.join("\n"));
        this.data = [];
      } else if (line.startsWith(":")) {
        this.onComment(line.slice(1).trim());
      } else if (line.startsWith("data:")) {
        this.data.push(line.slice(5).replace(/^ /, ""));
      }
    }
  }
}

const ms = (seconds) => `${Math.round(seconds)} ms`;
let controller = null;

function setStatus(text) { $("status").textContent = text; }

function showError(text) {
  const box = $("error");
  box.textContent = text;
  box.hidden = false;
  $("answer").classList.add("incomplete");
}

function reset() {
  $("answer").textContent = "";
  $("answer").classList.remove("incomplete");
  $("error").hidden = true;
  $("error").textContent = "";
  for (const id of ["ttft", "total"]) { $(id).textContent = "–"; delete $(id).dataset.ms; }
  $("tokens").textContent = "0";
  $("heartbeats").textContent = "0";
  $("usage").textContent = "";
}

function showTime(id, value) {
  $(id).textContent = ms(value);
  $(id).dataset.ms = String(value);
}

async function ask(event) {
  event.preventDefault();
  reset();
  const message = $("question").value;
  controller = new AbortController();
  $("ask").disabled = true;
  $("stop").disabled = false;
  setStatus("waiting for the first token…");
  const started = performance.now();
  let tokens = 0;
  let heartbeats = 0;
  let ended = null;

  const onEvent = (data) => {
    const payload = JSON.parse(data);
    if (payload.type === "token") {
      if (tokens === 0) { showTime("ttft", performance.now() - started); setStatus("streaming"); }
      tokens += 1;
      $("tokens").textContent = String(tokens);
      $("answer").textContent += payload.content;
    } else if (payload.type === "error") {
      ended = "error";
      showError(`The stream failed after it started (${payload.code}): ${payload.message}`);
    } else if (payload.type === "done") {
      ended = "done";
      const u = payload.usage;
      $("usage").textContent =
        `${u.prompt_tokens} prompt + ${u.completion_tokens} completion tokens` +
        (u.cost_usd ? ` · $${u.cost_usd}` : "") + (u.estimated ? " (estimated)" : "") +
        ` · finish_reason: ${payload.finish_reason}`;
    }
  };
  const onComment = () => { heartbeats += 1; $("heartbeats").textContent = String(heartbeats); };

  try {
    const response = await fetch("chat/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
      body: JSON.stringify({ message }),
      signal: controller.signal,
    });
    if (!response.ok) {
      // Refused before the stream started: the status code still tells the truth.
      const body = await response.json().catch(() => null);
      ended = "http_error";
      showError(`HTTP ${response.status}: ${body?.error?.message ?? response.statusText}`);
      return;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SSEParser(onEvent, onComment);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(value);
    }
    if (ended === null) {
      ended = "truncated";
      showError("The stream stopped without a 'done' or 'error' event: this answer is incomplete.");
    }
  } catch (error) {
    if (error.name === "AbortError") {
      ended = "stopped";
    } else {
      ended = "failed";
      showError(`The connection failed: ${error.message}`);
    }
  } finally {
    showTime("total", performance.now() - started);
    setStatus(ended ?? "failed");
    $("ask").disabled = false;
    $("stop").disabled = true;
    controller = null;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("ask-form").addEventListener("submit", ask);
  $("stop").addEventListener("click", () => controller?.abort());
});
