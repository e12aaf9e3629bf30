"""What one tool call came to: a value, or the reason it has none, and when it ran.

The lesson's Go ``ToolResult`` holds a name, a result and an error. Two more things make a result
useful to an agent and to the person tuning it:

- a **status** that says *why* there is no value: the tool raised (``error``), ran out of time
  (``timeout``), or never ran because an input it needed failed (``skipped``);
- **when** it ran: ``started`` and ``finished`` in seconds since the run began (a monotonic clock),
  which is what a Gantt chart of the turn is drawn from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

__all__ = ["TOOL_STATUSES", "DependencyFailedError", "ToolResult", "ToolStatus"]

ToolStatus = Literal["ok", "error", "timeout", "skipped"]
TOOL_STATUSES: tuple[ToolStatus, ...] = get_args(ToolStatus)


class DependencyFailedError(RuntimeError):
    """A tool was skipped because one of its inputs has no value (it failed, timed out or was
    itself skipped). ``dependency`` names that input and ``status`` says what happened to it."""

    def __init__(self, tool: str, dependency: str, status: ToolStatus, detail: str) -> None:
        self.tool = tool
        self.dependency = dependency
        self.status = status
        verb = {"error": "failed", "timeout": "timed out", "skipped": "was skipped"}.get(
            status, status)
        super().__init__(f"skipped {tool!r}: its input {dependency!r} {verb} ({detail})")


@dataclass(frozen=True)
class ToolResult:
    """The outcome of one tool call.

    ``value`` is set only when ``status == "ok"``; ``error`` only otherwise. ``started`` is
    ``None`` for a tool that never started (skipped, or out of time before its turn came).
    """

    name: str
    status: ToolStatus
    value: Any = None
    error: BaseException | None = None
    started: float | None = None
    finished: float | None = None

    def __post_init__(self) -> None:
        if self.status not in TOOL_STATUSES:
            raise ValueError(f"unknown status {self.status!r}; expected one of {TOOL_STATUSES}")
        if (self.status == "ok") != (self.error is None):
            raise ValueError(f"{self.name!r}: status {self.status!r} does not match error "
                             f"{self.error!r} (only 'ok' results have no error)")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish, or ``None`` if the tool never started."""
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started

    @property
    def reason(self) -> str:
        """One line saying why there is no value; empty for a successful call."""
        if self.error is None:
            return ""
        if self.status in ("timeout", "skipped"):  # our own messages, already sentences
            return str(self.error)
        return f"{type(self.error).__name__}: {self.error}"

    def unwrap(self) -> Any:
        """The value, or raise the error: for code that wants an exception after all."""
        if self.error is not None:
            raise self.error
        return self.value
