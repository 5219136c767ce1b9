"""Check the labelled corpus: ids unique, labels known, subcategories consistent with categories.

python -m nlp.data.validate nlp/data/corpus/*.jsonl
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from nlp.taxonomy import CATEGORIES, RISK_FLAGS, SUBCATEGORIES

WRITERS = {"self", "family", "acquaintance", "professional", "unknown"}


def validate(paths: list[Path]) -> list[str]:
    errors: list[str] = []
    seen: set[str] = set()
    stats = Counter()
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path.name}:{n}"
            try:
                ex = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"{where}: bad JSON ({exc})")
                continue
            if ex.get("id") in seen:
                errors.append(f"{where}: duplicate id {ex.get('id')}")
            seen.add(ex.get("id"))
            cats, subs, risk = ex.get("categories", []), ex.get("subcategories", []), ex.get("risk", [])
            if not ex.get("text"):
                errors.append(f"{where}: empty text")
            errors += [f"{where}: unknown category {c}" for c in cats if c not in CATEGORIES]
            errors += [f"{where}: unknown subcategory {s}" for s in subs if s not in SUBCATEGORIES]
            errors += [f"{where}: unknown risk {r}" for r in risk if r not in RISK_FLAGS]
            errors += [
                f"{where}: subcategory {s} without its category"
                for s in subs
                if s in SUBCATEGORIES and SUBCATEGORIES[s][0] not in cats
            ]
            errors += [
                f"{where}: category {c} has no subcategory"
                for c in cats
                if not any(SUBCATEGORIES.get(s, ("",))[0] == c for s in subs)
            ]
            if (ex.get("primary") is None) != (not cats) or (cats and ex.get("primary") not in cats):
                errors.append(f"{where}: primary must be one of categories (null when none)")
            if ex.get("writer") not in WRITERS:
                errors.append(f"{where}: writer must be one of {sorted(WRITERS)}")
            stats["examples"] += 1
            stats["multi"] += len(cats) >= 2
            stats["trap"] += bool(ex.get("trap"))
            stats["risk"] += bool(risk)
            stats["none"] += not cats
    print(
        f"{stats['examples']} examples, {stats['multi']} multi-category, {stats['risk']} with risk, "
        f"{stats['trap']} traps, {stats['none']} without concern",
        file=sys.stderr,
    )
    return errors


if __name__ == "__main__":
    errs = validate([Path(p) for p in sys.argv[1:]])
    for e in errs:
        print(e)
    sys.exit(1 if errs else 0)
