"""Fixed moments for time-dependent dialogue tests (the sample city's office hours)."""

from datetime import UTC, datetime

# Tuesday 24 Nov 2026, 10:00 JST: the desk is open.
OFFICE_HOURS = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
# Tuesday 24 Nov 2026, 20:00 JST: closed until Wednesday 8:30.
AFTER_HOURS = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
# Monday 23 Nov 2026, 10:00 JST: 勤労感謝の日, closed until Tuesday 8:30.
HOLIDAY = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
