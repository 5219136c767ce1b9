"""draft_sheet (pure) and the agency directory."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from handoff_support import ANALYSIS_8050

from handoff import sheet as sheet_mod
from handoff.directory import DirectoryError, directory_to_csv, load_directory, parse_directory_csv
from handoff.sheet import draft_sheet

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_sample_directory_is_fictional_and_covers_every_category(directory):
    assert len(directory.agencies) >= 15
    assert all("見本" in a.name or "架空" in a.notes for a in directory.agencies)
    covered = {c for a in directory.agencies for c in a.categories}
    assert covered == {"medical_welfare", "income", "work", "family", "parenting", "housing", "other"}


def test_suggest_prefers_subcategory_match(directory):
    names = [a.name for a in directory.suggest(["family"], ["hikikomori"])]
    assert "ひきこもり" in names[0]
    debt = directory.suggest(["income"], ["debt"])
    assert "消費生活" in debt[0].name
    assert directory.suggest([], []) == []


def test_directory_csv_round_trip_and_errors(directory):
    again = parse_directory_csv("\ufeff" + directory_to_csv(directory))
    assert again.agencies == directory.agencies
    with pytest.raises(DirectoryError, match="row 2"):
        parse_directory_csv("topic,agency,categories\n病気,病院,not_a_category\n")
    with pytest.raises(DirectoryError, match="missing"):
        parse_directory_csv("name,phone\nx,1\n")


def test_8050_case_is_multi_agency_with_suggestions(city, directory):
    s = draft_sheet(
        analysis=ANALYSIS_8050,
        answers={"hikikomori": {"person_age": "50代", "duration": "10年以上", "person_knows": "いいえ"}},
        resident_words=["息子が10年ひきこもっています"],
        writer_type="family",
        city=city,
        directory=directory,
        now=NOW,
    )
    assert s.categories[0] == "family" and s.primary == "family"
    assert set(s.categories) == {"family", "medical_welfare", "income"}
    assert s.referral.multi_agency
    assert sheet_mod.REASON_SPANS_FIELDS in s.referral.reason
    assert sheet_mod.REASON_HIKIKOMORI in s.referral.reason
    assert s.referral.suggestions and "ひきこもり" in s.referral.suggestions[0].name
    assert s.hikikomori.person_knows == "いいえ" and s.person.age_band == "50代"
    assert s.receiving_agency == city.desk_name and s.received_at == NOW
    assert s.duration == "10年以上"
    assert s.consent.given is False  # consent is recorded by request_handoff, not drafted


def test_single_field_case_goes_to_one_agency(city, directory):
    s = draft_sheet(
        analysis={"categories": ["housing"], "primary": "housing", "subcategories": ["rent"], "risk": []},
        answers={},
        resident_words=["家賃が払えません"],
        writer_type="self",
        city=city,
        directory=directory,
        now=NOW,
    )
    assert not s.referral.multi_agency and s.referral.suggestions[0].name.startswith("さくら見本市 住宅課")
    assert s.writer_type == "self" and s.person.name is None


def test_unclear_destination_and_risk_note(city, directory):
    s = draft_sheet(
        analysis={"categories": [], "primary": None, "subcategories": [], "risk": ["suicide_risk"]},
        answers={"contact_preference": "phone", "phone": "090-0000-0000"},
        resident_words=["もう消えたい"],
        writer_type="self",
        city=city,
        directory=directory,
        now=NOW,
    )
    assert s.referral.multi_agency and sheet_mod.REASON_UNKNOWN_DESTINATION in s.referral.reason
    assert s.risk == ["suicide_risk"] and "自殺" in s.special_notes
    assert s.person.phone == "090-0000-0000" and s.contact_preference == "phone"


def test_subcategory_implies_parent_and_unknown_ids_are_dropped(city, directory):
    s = draft_sheet(
        analysis={
            "categories": ["bogus"],
            "primary": "bogus",
            "subcategories": ["debt", "nope"],
            "risk": ["x"],
        },
        answers={},
        resident_words=[],
        writer_type="weird",
        city=city,
        directory=directory,
        now=NOW,
    )
    assert s.categories == ["income"] and s.primary == "income" and s.subcategories == ["debt"]
    assert s.risk == [] and s.writer_type == "unknown"


def test_load_directory_from_path(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("topic,agency,categories,subcategories\n住まい,住宅課,housing,rent\n", encoding="utf-8")
    d = load_directory(p)
    assert d.agencies[0].categories == ("housing",)
