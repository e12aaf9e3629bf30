"""``python -m course_lib.sandbox --port 8765``: run the sandbox in the foreground.

``--serve-as llama3.1:8b=gpt-4o,llama3.2:3b=gpt-4o-mini`` makes it pose as a server of other
models (:mod:`course_lib.sandbox.serve_as`), to try the course's model map ``COURSE_MODELS``.
"""

from __future__ import annotations

import argparse
import signal
import threading

from course_lib.sandbox.serve_as import parse_serve_as
from course_lib.sandbox.server import start
from course_lib.time_scale import check_time_scale, default_time_scale


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.sandbox",
        description="The course's local OpenAI-compatible simulator (binds 127.0.0.1 only).",
    )
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--time-scale", type=float, default=None,
                        help="multiply every simulated delay (default: $COURSE_SANDBOX_TIME_SCALE"
                             " or 1.0)")
    parser.add_argument("--seed", type=int, default=0, help="seed for jitter and fault rates")
    parser.add_argument("--serve-as", default=None, metavar="NAME=MODEL,...",
                        help="serve only these names, each simulating a model the sandbox knows"
                             " (e.g. llama3.1:8b=gpt-4o,nomic-embed-text=text-embedding-3-small)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be between 0 and 65535, got {args.port}")
    try:
        time_scale = (default_time_scale() if args.time_scale is None
                      else check_time_scale(args.time_scale, "--time-scale"))
        serve_as = parse_serve_as(args.serve_as)
    except ValueError as error:
        parser.error(str(error))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with start(port=args.port, time_scale=time_scale, seed=args.seed,
               serve_as=serve_as) as handle:
        print(f"course sandbox (a simulator, not a real model) at {handle.base_url}", flush=True)
        for served, simulated in serve_as.items():
            print(f"  serving {served} (simulating {simulated})", flush=True)
        print(f'  export OPENAI_BASE_URL={handle.base_url} OPENAI_API_KEY=sandbox', flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
