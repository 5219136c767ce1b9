"""The city's 相談機関一覧 (agency directory) and the destinations it suggests for a case.

Shaped like 長野市's draft list: per topic, the agency, the department in charge, address, phone,
hours and notes — plus the category / subcategory ids (../shared/domain.md) each row serves, so a
case's ご相談内容 can be matched to where to connect. A city loads its own CSV; admins can edit the
rows in the staff UI (the `agencies` table), which then takes precedence over the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nlp.taxonomy import CATEGORIES, SUBCATEGORIES

CSV_COLUMNS = [
    "topic",
    "no",
    "consultation",
    "agency",
    "department",
    "address",
    "phone",
    "hours",
    "notes",
    "categories",
    "subcategories",
]


class DirectoryError(ValueError):
    """The directory file is not usable; the message names the row and the problem."""


@dataclass(frozen=True)
class Agency:
    topic: str  # 相談項目, e.g. "ひきこもりについて"
    name: str  # 機関名
    department: str = ""  # 所管課
    address: str = ""
    phone: str = ""
    hours: str = ""
    notes: str = ""
    consultation: str = ""  # 相談内容
    no: int | None = None
    categories: tuple[str, ...] = ()
    subcategories: tuple[str, ...] = ()


@dataclass
class Directory:
    agencies: list[Agency] = field(default_factory=list)

    def suggest(
        self, categories: Iterable[str], subcategories: Iterable[str], limit: int = 3
    ) -> list[Agency]:
        """Agencies ranked by how well they fit: a subcategory match beats a category-only match.

        The first category given is treated as the 主訴 when callers pass it first, so it breaks ties.
        """
        cats = list(dict.fromkeys(categories))
        subs = set(subcategories)
        primary = cats[0] if cats else None
        scored: list[tuple[int, int, int, int, Agency]] = []
        for order, agency in enumerate(self.agencies):
            matched = subs.intersection(agency.subcategories)
            sub_hits = len(matched)
            # A match inside the 主訴's field counts most: that is what the writer worries about most.
            primary_hits = sum(1 for s in matched if SUBCATEGORIES[s][0] == primary)
            cat_hits = [c for c in cats if c in agency.categories]
            if not sub_hits and not cat_hits:
                continue
            # Earlier (more important) categories rank higher.
            best_cat = min((cats.index(c) for c in cat_hits), default=len(cats))
            scored.append((-primary_hits, -sub_hits, best_cat, order, agency))
        scored.sort(key=lambda t: t[:4])
        seen: set[str] = set()
        result: list[Agency] = []
        for *_, agency in scored:
            if agency.name in seen:
                continue
            seen.add(agency.name)
            result.append(agency)
            if len(result) >= limit:
                break
        return result


def _split_ids(raw: str, known: Iterable[str], *, what: str, line: int) -> tuple[str, ...]:
    ids = tuple(x for x in raw.replace(",", " ").replace("|", " ").split() if x)
    known = set(known)
    for x in ids:
        if x not in known:
            raise DirectoryError(f"row {line}: unknown {what} id {x!r}")
    return ids


def parse_directory_csv(text: str) -> Directory:
    """Parse the CSV text (UTF-8, optional BOM). Raises DirectoryError with the row number."""
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    missing = {"topic", "agency"} - set(reader.fieldnames or [])
    if missing:
        raise DirectoryError(f"missing columns: {', '.join(sorted(missing))}")
    agencies: list[Agency] = []
    for line, row in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        if not row.get("agency"):
            if not any(row.values()):
                continue
            raise DirectoryError(f"row {line}: agency is empty")
        no = row.get("no") or ""
        agencies.append(
            Agency(
                topic=row.get("topic", ""),
                name=row["agency"],
                department=row.get("department", ""),
                address=row.get("address", ""),
                phone=row.get("phone", ""),
                hours=row.get("hours", ""),
                notes=row.get("notes", ""),
                consultation=row.get("consultation", ""),
                no=int(no) if no.isdigit() else None,
                categories=_split_ids(row.get("categories", ""), CATEGORIES, what="category", line=line),
                subcategories=_split_ids(
                    row.get("subcategories", ""), SUBCATEGORIES, what="subcategory", line=line
                ),
            )
        )
    return Directory(agencies)


def load_directory(path: str | Path) -> Directory:
    return parse_directory_csv(Path(path).read_text(encoding="utf-8"))


def directory_to_csv(directory: Directory) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for a in directory.agencies:
        writer.writerow(
            [
                a.topic,
                a.no if a.no is not None else "",
                a.consultation,
                a.name,
                a.department,
                a.address,
                a.phone,
                a.hours,
                a.notes,
                " ".join(a.categories),
                " ".join(a.subcategories),
            ]
        )
    return out.getvalue()
