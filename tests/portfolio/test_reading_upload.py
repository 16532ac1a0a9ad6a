"""Reading a CSV upload of readings: every row's problem with its line number, and what committing would do."""

from __future__ import annotations

import datetime as dt

import pytest

from portfolio.reading_upload import (
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    KpiRef,
    decode,
    parse_upload,
    size_problem,
    with_existing,
)
from portfolio.readings import NUMBER_HELP, ReadingProblem

TODAY = dt.date(2026, 11, 16)
STARTED = dt.date(2026, 6, 1)
KPIS = [KpiRef(1, "match-rate", "Match rate", "%"), KpiRef(2, "handling-time", "Handling time", "min")]


def parse(text: str):
    return parse_upload(text, kpis=KPIS, started_on=STARTED, today=TODAY)


def test_it_reads_good_rows_with_their_line_numbers():
    plan = parse('kpi,date,value,note\nmatch-rate,2026-11-09,61.5,week 45\n\nhandling-time,2026-11-09,"1,234.5",\n')

    assert plan.ok
    assert [(r.line, r.kpi.id, r.measured_on, r.value, r.note) for r in plan.rows] == [
        (2, 1, dt.date(2026, 11, 9), 61.5, "week 45"),
        (4, 2, dt.date(2026, 11, 9), 1234.5, ""),
    ]


def test_columns_may_come_in_any_order_and_the_note_may_be_left_out():
    plan = parse("Value,KPI,Date\n61.5,match-rate,2026-11-09\n")

    assert plan.ok
    assert plan.rows[0].value == 61.5


def test_it_lists_every_rows_problem_with_its_line_number():
    text = "\n".join(
        [
            "kpi,date,value,note",
            "match-rate,2026-11-09,61.5,fine",
            "other-pilots-kpi,2026-11-09,1,",
            "match-rate,16/11/2026,1,",
            "match-rate,2026-11-17,1,",
            "match-rate,2026-05-31,1,",
            "match-rate,2026-11-10,12.5%,",
            "match-rate,2026-11-11,,",
            "match-rate,2026-11-09,62,twice",
            ",2026-11-12,1,",
        ]
    )

    plan = parse(text)

    assert not plan.ok
    assert plan.problems == [
        'Line 3: "other-pilots-kpi" is not a KPI of this pilot; its KPIs are handling-time, match-rate.',
        'Line 4: "16/11/2026" is not a date; write it as YYYY-MM-DD, such as 2026-11-16.',
        "Line 5: The date 17 Nov 2026 is in the future; readings are of what was measured.",
        "Line 6: The date 31 May 2026 is before the pilot started (01 Jun 2026).",
        'Line 7: "12.5%" is not a number. ' + NUMBER_HELP,
        "Line 8: A value is required. " + NUMBER_HELP,
        "Line 9: Line 2 already has a reading of match-rate for 2026-11-09.",
        "Line 10: The kpi cell is empty; it holds the KPI's key, such as handling-time, match-rate.",
    ]


def test_a_row_with_too_many_cells_is_refused():
    plan = parse("kpi,date,value\nmatch-rate,2026-11-09,1,extra\n")

    assert plan.problems == ["Line 2: It has 4 cells but the header names 3 columns."]


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("kpi,day,value", 'The first line names the columns; "day" is not one of them. Use: kpi, date, value, note.'),
        (
            "kpi,date",
            'The first line names the columns; "value" is missing. Use: kpi, date, value, note (note may be left out).',
        ),
        ("kpi,date,value,kpi", 'The column "kpi" is named twice on the first line.'),
    ],
)
def test_a_bad_header_is_explained(header, problem):
    assert parse(header + "\nmatch-rate,2026-11-09,1\n").problems == [problem]


def test_an_empty_file_or_one_without_readings_is_explained():
    assert parse("\n\n").problems == ["The file is empty. The first line names the columns: kpi,date,value,note."]
    assert parse("kpi,date,value\n").problems == ["The file has a header on line 1 but no readings."]


def test_a_file_with_too_many_rows_is_refused_whole():
    rows = "".join(f"match-rate,2026-11-09,{n}\n" for n in range(MAX_ROWS + 1))

    plan = parse("kpi,date,value\n" + rows)

    assert plan.problems == [
        "The file has more than 5,000 readings; one upload takes at most 5,000. Split it into smaller files."
    ]
    assert not plan.rows


def test_exactly_the_row_limit_is_accepted():
    start = dt.date(2012, 1, 1)
    rows = "".join(f"match-rate,{start + dt.timedelta(days=n)},1\n" for n in range(MAX_ROWS))

    plan = parse_upload("kpi,date,value\n" + rows, kpis=KPIS, started_on=start, today=TODAY)

    assert plan.ok
    assert len(plan.rows) == MAX_ROWS


def test_the_size_limit_is_explained():
    assert size_problem(MAX_UPLOAD_BYTES) is None
    assert size_problem(1_300_000) == "The file is 1.3 MB; an upload may be at most 1 MB. Split it into smaller files."


def test_it_reads_utf8_with_a_byte_order_mark_and_refuses_other_encodings():
    assert decode("\ufeffkpi,date,value\n".encode()) == "kpi,date,value\n"
    with pytest.raises(ReadingProblem, match="not UTF-8"):
        decode("kpi,date,value,note\nmatch-rate,2026-11-09,1,caf\xe9\n".encode("latin-1"))


def test_existing_readings_decide_whether_a_row_is_new_replaces_or_is_unchanged():
    plan = parse(
        "kpi,date,value,note\nmatch-rate,2026-11-09,61.5,\nmatch-rate,2026-11-10,62,\nmatch-rate,2026-11-11,63,\n"
    )

    plan = with_existing(plan, {(1, dt.date(2026, 11, 10)): (60.0, ""), (1, dt.date(2026, 11, 11)): (63.0, "")})

    assert [row.action for row in plan.rows] == ["new", "replace", "unchanged"]
    assert plan.count("replace") == 1


def test_the_fingerprint_changes_when_what_a_commit_would_do_changes():
    plan = parse("kpi,date,value\nmatch-rate,2026-11-09,61.5\n")
    before = plan.fingerprint()

    assert with_existing(plan, {}).fingerprint() == before
    assert with_existing(plan, {(1, dt.date(2026, 11, 9)): (50.0, "")}).fingerprint() != before
