"""The resident-facing wording, loaded from copy.yaml and filled with the city's values.

Everything the resident reads comes through `Copy.text`, so a city changes words in one file.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bot.city import JST, CityConfig

COPY_FILE = Path(__file__).resolve().parent / "copy.yaml"
LABEL_MAX = 20  # LINE shows at most 20 characters of a quick-reply label


class _KeepMissing(dict):
    """format_map helper: an unknown {placeholder} stays visible instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def normalize(text: str | None) -> str:
    """Compare what people type with button words: width-folded, trimmed, no closing punctuation."""
    if not text:
        return ""
    t = unicodedata.normalize("NFKC", text).strip()
    return t.rstrip("。．.!！?？ 　").lower()


def hours_text(city: CityConfig, words: dict[str, Any]) -> str:
    oh = city.office_hours
    weekdays = sorted(oh.weekdays)
    if weekdays == [0, 1, 2, 3, 4]:
        days = words["weekdays_all"]
    else:
        days = words["day_joiner"].join(words["day_names"][d] for d in weekdays)
    return words["format"].format(
        days=days,
        open=f"{oh.open.hour}:{oh.open.minute:02d}",
        close=f"{oh.close.hour}:{oh.close.minute:02d}",
    )


class Copy:
    def __init__(self, raw: dict[str, Any], city: CityConfig) -> None:
        self.raw = raw
        self.city = city
        self.city_values = {
            "city_name": city.city_name,
            "desk_name": city.desk_name,
            "desk_phone": city.desk_phone,
            "hours": hours_text(city, raw["hours"]),
            "retention_days": city.retention_days_unconsented,
            "family_support": "\n".join(f"・{v}" for v in city.family_support.values()),
        }

    @classmethod
    def load(cls, city: CityConfig, path: Path | None = None) -> Copy:
        raw = yaml.safe_load(Path(path or COPY_FILE).read_text(encoding="utf-8"))
        return cls(raw, city)

    def get(self, key: str) -> Any:
        node: Any = self.raw
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"copy.yaml has no {key!r}")
            node = node[part]
        return node

    def text(self, key: str, **values: Any) -> str:
        template = self.get(key)
        if not isinstance(template, str):
            raise TypeError(f"copy {key!r} is not a text")
        return self.fill(template, **values)

    def fill(self, template: str, **values: Any) -> str:
        return template.format_map(_KeepMissing({**self.city_values, **values}))

    def label(self, key: str) -> str:
        value = self.text(key)
        if len(value) > LABEL_MAX:
            raise ValueError(f"copy {key!r}: label over {LABEL_MAX} characters")
        return value

    def words(self, key: str) -> set[str]:
        """A list of typed words that mean the same as a button, normalized for matching."""
        return {normalize(w) for w in self.get(key)}

    # --- dates and times, said the way a person would say them -------------------------------

    def when(self, at: datetime, *, now: datetime) -> str:
        local, today = at.astimezone(JST), now.astimezone(JST).date()
        time = (
            self.text("handed_off.time_format_oclock", hour=local.hour)
            if local.minute == 0
            else self.text("handed_off.time_format", hour=local.hour, minute=local.minute)
        )
        weekday = self.get("handed_off.weekdays")[local.weekday()]
        date = self.text("handed_off.date_format", month=local.month, day=local.day, weekday=weekday)
        delta = (local.date() - today).days
        if delta == 0:
            return self.text("handed_off.today", time=time)
        if delta == 1:
            return self.text("handed_off.tomorrow", date=date, time=time)
        return self.text("handed_off.later", date=date, time=time)
