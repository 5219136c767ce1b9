"""`consult-bot classify`: JSON lines {"id", "text"} in → one JSON line per input, same order.

Output keys (contract): id, categories, primary, subcategories, risk; plus facts and summary.
A line that is not valid JSON gets an output line with an "error" key, so positions still line
up with the input.
"""

from __future__ import annotations

import json
from typing import TextIO

from nlp.analyzer import Analyzer, load


def classify_stream(stdin: TextIO, stdout: TextIO, analyzer: Analyzer | None = None) -> int:
    """Classify every line of `stdin`; returns the number of lines written."""
    analyzer = analyzer or load(ner=False)
    written = 0
    for line in stdin:
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text = item.get("text") or ""
            key = item.get("id")
        except (json.JSONDecodeError, AttributeError) as exc:
            out = {
                "id": None,
                "error": f"bad input line: {exc}",
                "categories": [],
                "primary": None,
                "subcategories": [],
                "risk": [],
            }
        else:
            analysis = analyzer.analyze(str(text))
            out = {
                "id": key,
                "categories": analysis.categories,
                "primary": analysis.primary,
                "subcategories": analysis.subcategories,
                "risk": analysis.risk,
                "facts": analysis.facts.to_dict(),
                "summary": analysis.summary,
            }
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        stdout.flush()
        written += 1
    return written


if __name__ == "__main__":
    import sys

    classify_stream(sys.stdin, sys.stdout)
