"""NLP latency and memory: the shipped analyzer vs the naive baseline.

    python benchmarks/nlp.py [--messages N] [--repeat R]

Each variant runs in its own subprocess (so peak RSS is its own):
- ours:     `nlp.load()` (Sudachi tokenizer + trained textcat and lexical model + risk rules +
            facts; GiNZA NER loaded for masking but not on the analyze path) → `analyze(text)`
            per message;
- baseline: the full `ja_ginza` pipeline per message (tok2vec, parser, NER, morphologizer,
            compound splitter, bunsetu) + the same classifier → what you get by calling
            `spacy.load("ja_ginza")(text)` first.
Messages are the dev split (real mix of short LINE lines, dialects, kana-only and long texts).
Latency is per message, warm (after a warm-up pass). Prints a Markdown table and writes it to
benchmarks/results/nlp.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "nlp" / "data" / "splits" / "dev.jsonl"
RESULTS = ROOT / "benchmarks" / "results" / "nlp.md"


def load_messages(limit: int) -> list[str]:
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row["text"] for row in rows][:limit]


def worker(variant: str, limit: int, repeat: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    import nlp

    messages = load_messages(limit)
    started = time.perf_counter()
    analyzer = nlp.load()
    if variant == "baseline":
        import spacy

        ginza = spacy.load("ja_ginza")

        def run(text: str) -> None:
            ginza(text)
            analyzer.analyze(text)
    else:

        def run(text: str) -> None:
            analyzer.analyze(text)

    load_seconds = time.perf_counter() - started
    for text in messages[:20]:  # warm-up
        run(text)
    timings: list[float] = []
    total_started = time.perf_counter()
    for _ in range(repeat):
        for text in messages:
            t0 = time.perf_counter()
            run(text)
            timings.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - total_started
    timings.sort()
    return {
        "messages": len(timings),
        "p50_ms": statistics.median(timings),
        "p95_ms": timings[int(0.95 * (len(timings) - 1))],
        "max_ms": timings[-1],
        "per_second": len(timings) / total,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load_s": load_seconds,
    }


def run_variant(variant: str, limit: int, repeat: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", variant, "--messages", str(limit), "--repeat", str(repeat)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(ours: dict[str, float], baseline: dict[str, float]) -> str:
    rows = [
        ("p50 latency (ms/message)", "p50_ms", "{:.2f}"),
        ("p95 latency (ms/message)", "p95_ms", "{:.2f}"),
        ("max latency (ms/message)", "max_ms", "{:.1f}"),
        ("throughput (messages/s)", "per_second", "{:.0f}"),
        ("peak RSS (MB)", "peak_rss_mb", "{:.0f}"),
        ("load time (s)", "load_s", "{:.1f}"),
    ]
    lines = [
        "| metric | ours (Sudachi + 2 models + rules) | baseline (full ja_ginza + same) | baseline / ours |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, key, fmt in rows:
        ratio = baseline[key] / ours[key] if ours[key] else float("nan")
        if key == "per_second":
            ratio = ours[key] / baseline[key] if baseline[key] else float("nan")
            label += " (ratio: ours / baseline)"
        lines.append(f"| {label} | {fmt.format(ours[key])} | {fmt.format(baseline[key])} | {ratio:.1f}× |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", choices=["ours", "baseline"])
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.messages, args.repeat)))
        return 0
    ours = run_variant("ours", args.messages, args.repeat)
    baseline = run_variant("baseline", args.messages, max(1, args.repeat // 3))
    report = (
        "# NLP benchmark\n\n"
        f"{int(ours['messages'])} analyses of dev-split messages (warm), Python {platform.python_version()}, "
        f"{platform.machine()}, shared 2-core machine.\n\n" + table(ours, baseline) + "\n"
    )
    print(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
