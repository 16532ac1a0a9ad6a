"""Every task of every user of the scenario once, against a running server; the requests as JSON.

    LOADTEST_SCENARIO=scenario.json .venv/bin/python -m loadtest.smoke --host http://127.0.0.1:8001

Deterministic where the timed run is random: each user signs in and runs each of its tasks
once, and one owner records two values for the same date, so the confirmed replacement is
exercised too. Prints ``{"requests": {name: {"methods": [...], "count": n, "failures": [...]}}}``
and exits 1 if any request failed. ``tests/test_loadtest.py`` runs it to keep the scenario
from rotting.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from typing import Any

import locust
from locust import User
from locust.env import Environment

from loadtest.locustfile import ApiFeed, Executive, Owner, reading_date

USERS: tuple[type[User], ...] = (Executive, Owner, ApiFeed)


@dataclasses.dataclass
class Seen:
    methods: set[str] = dataclasses.field(default_factory=set)
    count: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)


def _tasks(user_class: type[User]) -> list[Callable[[User], None]]:
    """Each task once (``tasks`` repeats a task by its weight), in the order the class declares them."""
    return list(dict.fromkeys(user_class.tasks))


def run(host: str) -> dict[str, Seen]:
    # The global event hooks, as the locust command uses: the locustfile logs requests through them.
    environment = Environment(user_classes=list(USERS), host=host, events=locust.events)
    seen: dict[str, Seen] = {}

    def record(request_type: str, name: str, exception: BaseException | None = None, **_: Any) -> None:
        entry = seen.setdefault(name, Seen())
        entry.methods.add(request_type)
        entry.count += 1
        if exception is not None:
            entry.failures.append(f"{request_type} {name}: {exception}")

    environment.events.request.add_listener(record)
    for user_class in USERS:
        # What locust's runner does with --host before it spawns users.
        user_class.host = host
    for user_class in USERS:
        user = user_class(environment)
        user.on_start()
        for task in _tasks(user_class):
            task(user)

    # The same date twice with two values: the second asks to replace, and the owner agrees.
    owner = Owner(environment)
    owner.on_start()
    pilot = owner.pilots[0]
    owner.pilots = [{**pilot, "kpis": pilot["kpis"][:1]}]
    day = reading_date(pilot["started_on"])
    owner.pick_date = lambda started_on: day  # type: ignore[method-assign]
    owner.record_reading()
    owner.record_reading()
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", required=True)
    seen = run(parser.parse_args(argv).host)
    requests = {
        name: {"methods": sorted(entry.methods), "count": entry.count, "failures": entry.failures}
        for name, entry in sorted(seen.items())
    }
    json.dump({"requests": requests}, sys.stdout, indent=1)
    return 1 if any(entry.failures for entry in seen.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
