"""Exports: the cases CSV (Excel-friendly: UTF-8 with BOM, CRLF) and the つなぐシート PDF.

Every export is audited by the route that calls these.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from handoff.models import OUTCOME_LABELS, PRIORITY_LABELS, STATUS_LABELS, WRITER_LABELS, Case
from nlp.taxonomy import CATEGORIES, RISK_FLAGS

JST = ZoneInfo("Asia/Tokyo")
BOM = "\ufeff"

# Only non-personal columns: the CSV leaves the system, so no free text and no contact details.
CSV_HEADER = [
    "ケース番号",
    "状態",
    "優先度",
    "受付日時",
    "初回対応日時",
    "終了日時",
    "相談者",
    "主訴",
    "相談分野",
    "危険の兆候",
    "相談結果・方針",
    "担当者",
]


def _fmt(dt) -> str:
    return dt.astimezone(JST).strftime("%Y-%m-%d %H:%M") if dt else ""


def cases_csv(cases: Iterable[Case], owners: dict[int, str]) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for c in cases:
        writer.writerow(
            [
                c.id,
                STATUS_LABELS.get(c.status, c.status),
                PRIORITY_LABELS.get(c.priority, c.priority),
                _fmt(c.created_at),
                _fmt(c.first_claimed_at),
                _fmt(c.closed_at),
                WRITER_LABELS.get(c.writer_type, c.writer_type),
                CATEGORIES.get(c.primary or "", ""),
                "・".join(CATEGORIES.get(x, x) for x in c.categories or []),
                "・".join(RISK_FLAGS.get(x, x) for x in c.risk or []),
                OUTCOME_LABELS.get(c.outcome or "", ""),
                owners.get(c.owner_id or 0, ""),
            ]
        )
    return out.getvalue().encode("utf-8")


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """WeasyPrint; the CSS names Noto CJK (Debian's fonts-noto-cjk) so Japanese renders."""
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url).write_pdf()
