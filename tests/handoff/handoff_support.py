"""Helpers shared by the handoff tests (imported as a plain module; tests/ is not a package)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.messages import Outbound
from handoff.sheet import draft_sheet

CONSENT_TEXT = "つなぐシートの内容を、福祉まるごと相談窓口の相談員と共有することに同意します。"
PASSWORD = "correct-horse-battery"


@dataclass
class RecordingNotifier:
    """Stands in for the LINE transport in service-level tests only (no transport there)."""

    sent: list[tuple[int, list[Outbound]]] = field(default_factory=list)

    def send(self, session, *, resident_id: int, messages: list[Outbound]) -> None:
        self.sent.append((resident_id, list(messages)))


ANALYSIS_8050 = {
    "categories": ["family", "medical_welfare", "income"],
    "primary": "family",
    "subcategories": ["hikikomori", "nursing_care", "living_expenses"],
    "risk": [],
    "facts": {
        "subjects": ["息子"],
        "ages": ["50代"],
        "durations": ["10年"],
        "household": ["母"],
        "agencies": [],
        "amounts": [],
    },
    "summary": "80代の親が、10年ひきこもっている50代の息子と自身の介護・生活費を心配している。",
}


def make_sheet(city, directory, *, analysis=None, words=None, now=None):
    return draft_sheet(
        analysis=analysis or ANALYSIS_8050,
        answers={"about_whom": "family", "duration": "10年"},
        resident_words=words or ["息子が10年ひきこもっていて、私も年で介護が心配です"],
        writer_type="family",
        city=city,
        directory=directory,
        now=now or datetime.now(UTC),
    )
