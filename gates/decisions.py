"""What a gate decision needs before it can be recorded, as messages a person can act on.

Pure: the decision service checks the same rules inside its lock, against the readiness
at that moment, and the page shows the messages beside the fields they are about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from gates.models import Decision

# An override must say more than "urgent" (issue 4).
OVERRIDE_MIN_LENGTH = 30


def _date(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def _listed(labels: Sequence[str]) -> str:
    quoted = [f"“{label}”" for label in labels]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def decision_problems(
    *,
    decision: str,
    unmet: Sequence[str],
    rationale: str = "",
    override_justification: str = "",
    lessons: str = "",
    next_review_on: dt.date | None = None,
    today: dt.date,
) -> dict[str, str]:
    """What is missing for ``decision``, by form field; empty when it may be recorded.

    ``unmet`` are the labels of the gate's criteria that are not met right now.
    """
    problems: dict[str, str] = {}
    if decision not in Decision.values:
        problems["decision"] = "Choose a decision: advance, hold or kill."
        return problems
    if decision == Decision.ADVANCE and unmet:
        justification = override_justification.strip()
        count = len(unmet)
        gap = f"{count} criteri{'on is' if count == 1 else 'a are'} not met ({_listed(unmet)})"
        if not justification:
            problems["override_justification"] = (
                f"{gap}: to advance anyway, write an override justification of at least "
                f"{OVERRIDE_MIN_LENGTH} characters."
            )
        elif len(justification) < OVERRIDE_MIN_LENGTH:
            problems["override_justification"] = (
                f"{gap}: the override justification needs at least {OVERRIDE_MIN_LENGTH} characters "
                f"(it has {len(justification)})."
            )
    if decision == Decision.ADVANCE and next_review_on is not None and next_review_on <= today:
        problems["next_review_on"] = f"The next review must be after today ({_date(today)}), or left empty."
    if decision == Decision.HOLD:
        if next_review_on is None:
            problems["next_review_on"] = "A hold needs the date of the next review."
        elif next_review_on <= today:
            problems["next_review_on"] = f"The next review must be after today ({_date(today)})."
    if decision == Decision.KILL:
        if not rationale.strip():
            problems["rationale"] = "A kill needs a rationale: why is the pilot stopped?"
        if not lessons.strip():
            problems["lessons"] = "A kill needs what was learned, so the next pilot with this problem can use it."
    return problems
