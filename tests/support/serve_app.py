"""The real app in its own process, for tests that kill it (SIGKILL) or talk to it over real HTTP.

    python -m tests.support.serve_app --port 8123      # settings from the environment, like `serve`

Differences from `consult-bot serve`, both for test speed only: the schema is created up front, the
light analyzer (tests.support.fixtures.light_analyzer) stands in when CONSULT_LOAD_NLP=false, and
with CONSULT_TEST_FAST_RETRIES=1 back-off and leases are short.
"""

from __future__ import annotations

import argparse
import os

import uvicorn

from bot.settings import Settings
from tests.support.fixtures import make_app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = make_app(Settings(), fast_retries=os.environ.get("CONSULT_TEST_FAST_RETRIES") == "1")
    if "CONSULT_TEST_ACK_PRIORITY_SHARE" in os.environ:  # benchmarks: compare with/without
        app.state.line_ack_priority.share = float(os.environ["CONSULT_TEST_ACK_PRIORITY_SHARE"])
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
