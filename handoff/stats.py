"""Statistics for supervisors, in the shape of 飯田市's 相談対応実績 (seeds/000, 令和3年度).

飯田 counts new consultations by 主訴 as staff judged it: ア ひきこもり, イ 病気・介護・精神, ウ 家族,
エ 借金・生活苦, オ 住宅, カ 職場・就労, キ 夫婦・男女間, ク その他 — and splits 市民等 (本人, 家族,
地域の方…) from 関係機関. We map each case's 主訴 (+ subcategories) to those rows, per month of
the fiscal year (April → March, Japan time).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.models import WRITER_LABELS, Case
from nlp.taxonomy import RISK_FLAGS

JST = ZoneInfo("Asia/Tokyo")

IIDA_ROWS: list[tuple[str, str]] = [
    ("hikikomori", "ア ひきこもり"),
    ("illness_care_mental", "イ 病気、介護、精神"),
    ("family", "ウ 家族"),
    ("debt_poverty", "エ 借金、生活苦"),
    ("housing", "オ 住宅"),
    ("work", "カ 職場・就労"),
    ("couple", "キ 夫婦・男女間"),
    ("other", "ク その他"),
]
FISCAL_MONTHS = [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]


def iida_row(
    primary: str | None, subcategories: list[str] | None = None, categories: list[str] | None = None
) -> str:
    """Which 飯田 主訴 row a case counts under."""
    subs = set(subcategories or [])
    if "hikikomori" in subs and primary in (None, "family", "medical_welfare"):
        return "hikikomori"
    match primary:
        case "medical_welfare":
            return "illness_care_mental"
        case "income":
            return "debt_poverty"
        case "housing":
            return "housing"
        case "work":
            return "work"
        case "family":
            if "dv_abuse" in subs:
                return "couple"
            if "family_care" in subs:
                return "illness_care_mental"
            return "family"
        case "parenting":
            return "family"
    return "other"


def fiscal_year_of(d: date) -> int:
    return d.year if d.month >= 4 else d.year - 1


def fiscal_label(fy: int) -> str:
    reiwa = fy - 2018
    return f"令和{reiwa}年度" if reiwa >= 1 else f"{fy}年度"


@dataclass
class Stats:
    fiscal_year: int
    total: int = 0
    residents: int = 0  # ア 市民等
    agencies: int = 0  # イ 関係機関
    by_row_month: dict[str, dict[int, int]] = field(default_factory=dict)
    by_row: Counter = field(default_factory=Counter)
    by_month: Counter = field(default_factory=Counter)
    by_writer: Counter = field(default_factory=Counter)
    by_risk: Counter = field(default_factory=Counter)
    urgent: int = 0
    wait_minutes: list[float] = field(default_factory=list)
    never_claimed: int = 0

    @property
    def label(self) -> str:
        return fiscal_label(self.fiscal_year)

    @property
    def rows(self) -> list[tuple[str, str]]:
        return IIDA_ROWS

    @property
    def months(self) -> list[int]:
        return FISCAL_MONTHS

    def wait_summary(self) -> dict[str, float | int | None]:
        w = sorted(self.wait_minutes)
        if not w:
            return {"count": 0, "median": None, "mean": None, "p90": None, "max": None}
        p90 = w[min(len(w) - 1, round(0.9 * (len(w) - 1)))]
        return {
            "count": len(w),
            "median": round(statistics.median(w), 1),
            "mean": round(statistics.fmean(w), 1),
            "p90": round(p90, 1),
            "max": round(w[-1], 1),
        }

    def wait_buckets(self) -> list[tuple[str, int]]:
        edges = [
            (15, "15分以内"),
            (60, "1時間以内"),
            (240, "4時間以内"),
            (60 * 24, "1日以内"),
            (None, "1日超"),
        ]
        counts = Counter()
        for m in self.wait_minutes:
            for limit, label in edges:
                if limit is None or m <= limit:
                    counts[label] += 1
                    break
        return [(label, counts[label]) for _, label in edges]

    def writer_rows(self) -> list[tuple[str, int]]:
        return [(WRITER_LABELS[k], self.by_writer.get(k, 0)) for k in WRITER_LABELS]

    def risk_rows(self) -> list[tuple[str, int]]:
        return [(label, self.by_risk.get(k, 0)) for k, label in RISK_FLAGS.items()]


def compute(session: Session, *, fiscal_year: int) -> Stats:
    start = datetime(fiscal_year, 4, 1, tzinfo=JST)
    end = datetime(fiscal_year + 1, 4, 1, tzinfo=JST)
    stats = Stats(fiscal_year=fiscal_year)
    stats.by_row_month = {key: dict.fromkeys(FISCAL_MONTHS, 0) for key, _ in IIDA_ROWS}
    cases = session.scalars(select(Case).where(Case.created_at >= start, Case.created_at < end))
    for case in cases:
        month = case.created_at.astimezone(JST).month
        row = iida_row(case.primary, case.subcategories, case.categories)
        stats.total += 1
        stats.by_row[row] += 1
        stats.by_row_month[row][month] += 1
        stats.by_month[month] += 1
        stats.by_writer[case.writer_type or "unknown"] += 1
        if case.writer_type == "professional":
            stats.agencies += 1
        else:
            stats.residents += 1
        for flag in case.risk or []:
            stats.by_risk[flag] += 1
        if case.priority == "urgent":
            stats.urgent += 1
        if case.first_claimed_at is not None:
            stats.wait_minutes.append((case.first_claimed_at - case.created_at).total_seconds() / 60)
        elif case.status == "waiting":
            stats.never_claimed += 1
    return stats
