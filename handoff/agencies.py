"""The directory as the service uses it: admin-edited rows in the database, else the city's CSV."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.city import CityConfig
from handoff.directory import Agency, Directory, load_directory, parse_directory_csv
from handoff.models import AgencyRow


def _to_agency(row: AgencyRow) -> Agency:
    return Agency(
        topic=row.topic,
        name=row.name,
        department=row.department,
        address=row.address,
        phone=row.phone,
        hours=row.hours,
        notes=row.notes,
        consultation=row.consultation,
        no=row.no,
        categories=tuple(row.categories or ()),
        subcategories=tuple(row.subcategories or ()),
    )


def list_rows(session: Session) -> list[AgencyRow]:
    return list(session.scalars(select(AgencyRow).order_by(AgencyRow.no, AgencyRow.id)))


def current_directory(session: Session, city: CityConfig) -> Directory:
    """What to suggest from: the edited rows once an admin loaded or edited any, else the CSV file."""
    if session.scalar(select(func.count()).select_from(AgencyRow)):
        return Directory([_to_agency(r) for r in list_rows(session) if r.active])
    return load_directory(city.agency_directory)


def replace_from_csv(session: Session, *, text: str) -> int:
    """Replace every row with the CSV's (validated first: a bad file changes nothing)."""
    directory = parse_directory_csv(text)
    session.execute(delete(AgencyRow))
    for i, a in enumerate(directory.agencies, start=1):
        session.add(
            AgencyRow(
                no=a.no if a.no is not None else i,
                topic=a.topic,
                consultation=a.consultation,
                name=a.name,
                department=a.department,
                address=a.address,
                phone=a.phone,
                hours=a.hours,
                notes=a.notes,
                categories=list(a.categories),
                subcategories=list(a.subcategories),
                active=True,
            )
        )
    session.flush()
    return len(directory.agencies)


def seed_from_city_if_empty(session: Session, city: CityConfig) -> None:
    """Copy the city's CSV into the table so admins have rows to edit."""
    if not session.scalar(select(func.count()).select_from(AgencyRow)):
        replace_from_csv(session, text=city.agency_directory.read_text(encoding="utf-8"))
