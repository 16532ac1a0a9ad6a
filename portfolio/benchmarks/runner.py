"""What the ``benchmark`` command runs on: a dedicated database, the sections, and the table it prints."""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.management import call_command
from django.db import connection
from django.test.utils import override_settings

from portfolio.benchmarks import BenchContext, Measurement

DEFAULT_SECTIONS = ("scan", "pages", "digests", "api")
BENCH_SUFFIX = "_bench"
SECTION_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def database_url(settings_dict: dict) -> str:
    """The connection's database as a DATABASE_URL, for child processes (a worker)."""
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


def _on_the_server(statement: str) -> None:
    """Run a statement such as CREATE DATABASE through the server's maintenance database, as
    Django's test runner does: the database the settings name need not exist."""
    with connection._nodb_cursor() as cursor:
        cursor.execute(statement)


def _drop_database(name: str) -> None:
    # FORCE: a worker the benchmark started may still hold a connection for a moment.
    _on_the_server(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)} WITH (FORCE)")


@contextmanager
def dedicated_database(*, keep: bool = False) -> Iterator[str]:
    """Point the default connection at a fresh, migrated ``<name>_bench`` database; drop it afterwards.

    The real database is never written: the benchmark database is created beside it on the
    same server and recreated if a previous run left it (``--keep``).
    """
    settings_dict = connection.settings_dict
    original = settings_dict["NAME"]
    bench = f"{original}{BENCH_SUFFIX}"
    _drop_database(bench)
    _on_the_server(f"CREATE DATABASE {connection.ops.quote_name(bench)}")
    connection.close()
    settings_dict["NAME"] = bench
    try:
        call_command("migrate", interactive=False, verbosity=0)
        yield bench
    finally:
        connection.close()
        settings_dict["NAME"] = original
        if not keep:
            _drop_database(bench)


@contextmanager
def sealed_off() -> Iterator[None]:
    """No task or mail leaves the benchmark: tasks go to an in-process broker, mail to memory.

    A scan of the benchmark database publishes tasks (webhook announcements) and the
    digests section sends mail; with the real broker a real worker would act on the
    benchmark's ids against the real database, and real people would get mail.
    """
    import kombu.pools

    from portfolio.celery import app

    def point_at(url: str, options: dict) -> None:
        app.conf.broker_url = url
        app.conf.broker_transport_options = options
        # Drop every cached connection and producer, or the old broker keeps being used.
        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
        app.amqp._producer_pool = None
        kombu.pools.reset()

    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    point_at("memory://", {})
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            yield
    finally:
        point_at(*saved)


@dataclass
class SectionResult:
    """A section's measurements, or why it has none."""

    section: str
    measurements: list[Measurement] = field(default_factory=list)
    missing: bool = False
    error: str = ""


def check_section_names(names: Sequence[str]) -> list[str]:
    """The section names, or ValueError naming the first that cannot be a module of portfolio.benchmarks."""
    for name in names:
        if not SECTION_NAME.match(name):
            raise ValueError(f"{name!r} is not a benchmark section name (lower case letters, digits and _)")
    return list(names)


def run_section(name: str, context: BenchContext) -> SectionResult:
    """Import ``portfolio.benchmarks.<name>`` and call its ``measure``; a module not written yet is no error."""
    module_name = f"{__package__}.{name}"
    if importlib.util.find_spec(module_name) is None:
        return SectionResult(name, missing=True)
    module = importlib.import_module(module_name)
    measure = getattr(module, "measure", None)
    if measure is None:
        return SectionResult(name, error=f"{module_name} has no measure(context)")
    try:
        return SectionResult(name, measurements=list(measure(context)))
    except Exception as exc:
        # One broken section must not cost the figures of the others (nor the drop).
        return SectionResult(name, error=f"{type(exc).__name__}: {exc}")


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:.0f} {unit}"


HEADERS = ("what", "median", "floor (bare SQL)", "ratio", "queries", "budget", "within budget")


def render_table(results: Sequence[SectionResult]) -> list[str]:
    """One table of every measurement, then the notes; the lines to print."""
    rows: list[tuple[str, ...]] = []
    notes: list[str] = []
    for result in results:
        if result.missing:
            rows.append((result.section, "not measured yet", "", "", "", "", ""))
        elif result.error:
            rows.append((result.section, "failed", "", "", "", "", ""))
            notes.append(f"{result.section}: {result.error}")
        for measurement in result.measurements:
            within = measurement.within_budget
            rows.append(
                (
                    measurement.what,
                    _amount(measurement.seconds, measurement.unit),
                    _amount(measurement.floor_seconds, measurement.unit),
                    "" if measurement.ratio is None else f"{measurement.ratio:.1f}x",
                    "" if measurement.queries is None else str(measurement.queries),
                    _amount(measurement.budget_seconds, measurement.unit),
                    "" if within is None else ("yes" if within else "NO"),
                )
            )
            if measurement.note:
                notes.append(f"{measurement.what}: {measurement.note}")
    widths = [max(len(row[column]) for row in [HEADERS, *rows]) for column in range(len(HEADERS))]
    # Text left, figures right, as a reader scans them.
    aligned = [str.ljust] + [str.rjust] * (len(HEADERS) - 2) + [str.ljust]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(align(cell, width) for align, cell, width in zip(aligned, row, widths, strict=True)).rstrip()

    lines = [line(HEADERS), "  ".join("-" * width for width in widths)]
    lines += [line(row) for row in rows]
    if notes:
        lines += ["", *(f"* {note}" for note in notes)]
    return lines
