"""The city's configuration: name, desk, office hours, safety numbers, family support, directory.

Loaded from a YAML file a city edits (CONSULT_CITY_CONFIG); the shipped sample is a fictional city.
Wording the resident reads lives in bot/dialogs/copy.yaml, not here.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import jpholiday
import yaml
from pydantic import BaseModel, Field

JST = ZoneInfo("Asia/Tokyo")


class SafetyNumber(BaseModel):
    name: str
    number: str
    hours: str = "24時間"
    note: str = ""


class OfficeHours(BaseModel):
    weekdays: list[int] = Field(default=[0, 1, 2, 3, 4])  # Monday = 0
    open: time = time(8, 30)
    close: time = time(17, 15)
    closed_dates: list[date] = Field(default_factory=list)  # 年末年始 etc., besides national holidays


class CityConfig(BaseModel):
    city_name: str
    desk_name: str
    desk_phone: str
    office_hours: OfficeHours = OfficeHours()
    safety_numbers: dict[str, list[SafetyNumber]]  # by risk flag: suicide_risk, violence_risk, ...
    family_support: dict[str, str] = Field(default_factory=dict)  # 家族学習会, 家族会, アウトリーチ
    agency_directory: Path  # CSV shaped like 長野市's 相談機関一覧 (relative to this file)
    retention_days_unconsented: int = 30
    retention_days_closed: int = 365 * 5
    resume_after_hours: int = 24

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(JST)
        d = local.date()
        if local.weekday() not in self.office_hours.weekdays or jpholiday.is_holiday(d):
            return False
        if d in self.office_hours.closed_dates:
            return False
        return self.office_hours.open <= local.time() < self.office_hours.close

    def next_opening(self, at: datetime) -> datetime:
        """When a person will next be at the desk (used to say honestly when staff will read it)."""
        local = at.astimezone(JST)
        if self.is_open(local):
            return local
        day = local.date()
        for _ in range(30):
            candidate = datetime.combine(day, self.office_hours.open, tzinfo=JST)
            if candidate > local and self.is_open(candidate):
                return candidate
            day += timedelta(days=1)
        return local + timedelta(days=1)


def load_city(path: Path) -> CityConfig:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    cfg = CityConfig.model_validate(raw)
    if not cfg.agency_directory.is_absolute():
        cfg.agency_directory = (Path(path).parent / cfg.agency_directory).resolve()
    return cfg
