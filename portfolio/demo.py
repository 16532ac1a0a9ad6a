"""A realistic, deterministic demo portfolio in the exchange format (DESIGN section 7).

``demo_document(today)`` is pure: every date is an offset from ``today`` and every bit
of noise comes from a ``random.Random`` seeded by the pilot and KPI keys, so the same
date always gives the same document and a later date gives the same portfolio moved
forward in time. Each pilot tells one story that the health scan (DESIGN section 5)
should see: healthy pilots, drifting ones, an ownerless one, a stuck one, killed ones.
``demo_logins_enable`` is the one write: it gives the demo people a known password.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from portfolio.exchange import FORMAT

DEMO_PASSWORD = "pilot-demo-2026"
DEMO_EMAIL_DOMAIN = "demo.example"
PORTFOLIO_OFFICE = "priya.nair"

PHASES = ("poc", "pilot", "production", "scaled")
READINGS_WINDOW_DAYS = 364
CHECKIN_EVERY_DAYS = 28


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    title: str
    roles: tuple[str, ...] = ()
    active: bool = True


PEOPLE: tuple[Person, ...] = (
    Person("margaret.chen", "Margaret Chen", "Chief Operating Officer", ("executive",)),
    Person("david.okafor", "David Okafor", "Chief Financial Officer", ("executive",)),
    Person(PORTFOLIO_OFFICE, "Priya Nair", "AI portfolio office lead", ("portfolio_office",)),
    Person("sofia.alvarez", "Sofia Alvarez", "VP Customer Service"),
    Person("thomas.berger", "Thomas Berger", "VP Operations"),
    Person("henrik.larsen", "Henrik Larsen", "Director Supply Chain"),
    Person("amara.diallo", "Amara Diallo", "Service operations manager"),
    Person("hannah.kowalski", "Hannah Kowalski", "Contact centre manager"),
    Person("elena.rossi", "Elena Rossi", "Accounts payable lead"),
    Person("james.whitfield", "James Whitfield", "Treasury and credit manager"),
    Person("lucas.moreau", "Lucas Moreau", "Procurement and workforce analyst"),
    Person("ravi.patel", "Ravi Patel", "Plant engineering manager"),
    Person("mei.tanaka", "Mei Tanaka", "Planning manager"),
    Person("oliver.grant", "Oliver Grant", "Logistics manager"),
    # Left the company but still named as an owner: the "owner inactive" story.
    Person("noah.fischer", "Noah Fischer", "Field service lead (left)", active=False),
)


@dataclass(frozen=True)
class KpiStory:
    """A KPI and the shape of its readings, as progress from baseline (0) to target (1)."""

    key: str
    name: str
    unit: str
    direction: str
    baseline: float | None
    target: float
    reach: float  # progress at the latest reading, reached along an ease-out curve
    tail: tuple[float, ...] = ()  # exact progress of the latest readings, oldest first
    reference: float | None = None  # where readings start when no baseline was recorded
    decimals: int = 1
    noise: float = 0.04  # spread of the readings before the last few, in progress units
    target_after_days: int | None = 365  # target_on, counted from the start
    notes: tuple[tuple[int, str], ...] = ()  # (position from the end, 1 = latest, note)


@dataclass(frozen=True)
class KillStory:
    key: str
    description: str
    kpi: str | None = None
    comparator: str | None = None
    threshold: float | None = None
    evaluate_after_days: int | None = None  # evaluate_on, counted from the start


@dataclass(frozen=True)
class PilotStory:
    """One pilot; every ``*_ago`` is a number of days before today."""

    key: str
    name: str
    business_unit: str
    problem: str
    outcome: str
    owner: str | None
    sponsor: str | None
    started_ago: int
    advanced_ago: tuple[int, ...] = ()  # one advance per gate passed, oldest first
    status: str = "active"
    ended_ago: int | None = None  # the kill or hold review
    end_rationale: str = ""
    review_in_days: int | None = None  # next_review_on; negative is overdue
    budget: int | None = None
    spent: int | None = None
    kpis: tuple[KpiStory, ...] = ()
    kill_criteria: tuple[KillStory, ...] = ()
    readings_stop_ago: int = 0
    checkins_stop_ago: int = 0
    checkin_sponsor: str | None = None  # who checked in, when not the current sponsor
    confidence: str = "high"  # the sponsor's latest mood
    checkin_note: str = ""  # the latest check-in's note
    attested: tuple[str, ...] = ()  # evidence already recorded for the next gate
    rationales: tuple[str, ...] = ()  # of the advances, when the default text does not fit
    decided_by: tuple[str | None, ...] = ()  # of the advances, when not the sponsor
    override: tuple[int, str] | None = None  # (advance index, justification)

    @property
    def phase(self) -> str:
        return PHASES[len(self.advanced_ago)]


# -- the stories ---------------------------------------------------------------------------------

CS, FINANCE, OPERATIONS, SUPPLY_CHAIN = "Customer Service", "Finance", "Operations", "Supply Chain"

PILOTS: tuple[PilotStory, ...] = (
    # Customer Service
    PilotStory(
        key="ticket-triage",
        name="Support ticket triage",
        business_unit=CS,
        problem="Every inbound ticket waits in a shared queue until a coordinator reads it and routes it; "
        "one in six lands with the wrong team and is passed on again.",
        outcome="Tickets reach the right team within minutes, so customers get a first answer the same morning.",
        owner="amara.diallo",
        sponsor="sofia.alvarez",
        started_ago=620,
        advanced_ago=(530, 390, 150),
        review_in_days=40,
        budget=240_000,
        spent=212_400,
        kpis=(
            KpiStory("first-response", "Median first response time", "min", "decrease", 240, 60, reach=1.1),
            KpiStory("misrouted", "Tickets routed to the wrong team", "%", "decrease", 18, 6, reach=1.05),
        ),
        kill_criteria=(
            KillStory(
                "misrouting-not-improved",
                "Stop if misrouting is still above the 18% baseline after three months.",
                "misrouted",
                "above",
                18,
                90,
            ),
        ),
        checkin_note="Scaled to all four regions; agents no longer ask for the old queue.",
    ),
    PilotStory(
        key="reply-drafting",
        name="Agent reply drafting",
        business_unit=CS,
        problem="Agents type the same explanations dozens of times a day; handling time per email ticket "
        "has grown with every new product line.",
        outcome="Agents resolve more tickets a day with drafted replies they edit, without losing satisfaction.",
        owner="hannah.kowalski",
        sponsor="sofia.alvarez",
        started_ago=330,
        advanced_ago=(260, 90),
        review_in_days=60,
        budget=180_000,
        spent=121_500,
        kpis=(
            KpiStory("tickets-per-agent", "Tickets resolved per agent", "tickets/day", "increase", 38, 50, reach=0.8),
            KpiStory("csat", "Customer satisfaction (CSAT)", "%", "increase", 82, 88, reach=0.9),
        ),
        kill_criteria=(
            KillStory(
                "csat-drop",
                "Stop if CSAT falls below 78% at any point after go-live.",
                "csat",
                "below",
                78,
                120,
            ),
        ),
        attested=("runbook",),
    ),
    PilotStory(
        key="call-summarisation",
        name="Call summarisation",
        business_unit=CS,
        problem="After every call agents spend six and a half minutes writing wrap-up notes by hand.",
        outcome="Summaries written by the model cut after-call work in half.",
        owner="hannah.kowalski",
        sponsor="sofia.alvarez",
        started_ago=200,
        advanced_ago=(120,),
        review_in_days=21,
        budget=95_000,
        spent=58_200,
        kpis=(
            KpiStory(
                "after-call-work",
                "After-call work per call",
                "min",
                "decrease",
                6.5,
                3.0,
                reach=0.4,
                tail=(0.3, 0.18, 0.05, -0.08, -0.15),
                decimals=2,
                notes=((3, "New CRM wrap-up screen went live; agents retype the summary into it."),),
            ),
            KpiStory("wrap-up-codes", "Wrap-up codes correct", "%", "increase", 71, 90, reach=0.6),
        ),
        kill_criteria=(
            KillStory(
                "no-time-saved",
                "Stop if after-call work is above 7 minutes at the six-month review.",
                "after-call-work",
                "above",
                7.0,
                230,
            ),
        ),
        confidence="low",
        checkin_note="Agents say the CRM screen undoes the saving. Integration fix promised, not scheduled.",
        attested=("monitoring",),
    ),
    PilotStory(
        key="churn-early-warning",
        name="Churn early warning",
        business_unit=CS,
        problem="We learn a key account is leaving when the cancellation arrives; account managers have no "
        "early signal.",
        outcome="Account managers call at-risk customers a month before renewal.",
        owner="amara.diallo",
        sponsor="sofia.alvarez",
        started_ago=150,
        review_in_days=14,
        budget=60_000,
        spent=57_300,
        kpis=(KpiStory("alert-precision", "Churn alerts that were right", "%", "increase", 35, 60, reach=0.6),),
        kill_criteria=(KillStory("no-crm-slot", "Stop if no CRM integration slot is funded by the Q1 plan."),),
        confidence="medium",
        checkin_note="Model works in the notebook; still no CRM developer to wire the alerts in.",
    ),
    PilotStory(
        key="voice-of-customer",
        name="Voice-of-customer theme mining",
        business_unit=CS,
        problem="The monthly customer feedback report takes two analysts a week of reading survey comments.",
        outcome="Themes from every survey comment in an afternoon, ranked by how many customers raise them.",
        owner="amara.diallo",
        sponsor="sofia.alvarez",
        started_ago=170,
        status="on_hold",
        ended_ago=80,
        end_rationale="Hold: the survey vendor will not share raw comments until the data-sharing agreement is "
        "signed. Review again once Legal has it.",
        review_in_days=-20,
        budget=40_000,
        spent=18_900,
        kpis=(KpiStory("report-hours", "Hours to produce the monthly report", "h", "decrease", 60, 12, reach=0.5),),
        kill_criteria=(KillStory("no-agreement", "Stop if the data-sharing agreement is not signed by year end."),),
        confidence="medium",
        checkin_note="Waiting for Legal on the vendor agreement.",
    ),
    PilotStory(
        key="returns-chatbot",
        name="Returns chatbot",
        business_unit=CS,
        problem="Customers wait nine minutes on hold to arrange a return, and return requests are 30% of "
        "inbound calls. (Killed: customers arranging a return wanted a label, not a conversation.)",
        outcome="Most returns arranged without an agent.",
        owner="hannah.kowalski",
        sponsor="sofia.alvarez",
        started_ago=420,
        advanced_ago=(330,),
        status="killed",
        ended_ago=150,
        end_rationale="Kill criterion met: containment stalled at 11% against a 25% floor. Lesson: a plain "
        "self-service returns form beat the bot in an A/B test; customers wanted a label, not a conversation. "
        "The intent classifier is reused by ticket triage.",
        budget=150_000,
        spent=97_800,
        kpis=(KpiStory("containment", "Return requests handled without an agent", "%", "increase", 5, 45, reach=0.15),),
        kill_criteria=(
            KillStory(
                "containment-floor",
                "Stop if fewer than 25% of return requests are handled without an agent after four months.",
                "containment",
                "below",
                25,
                120,
            ),
        ),
        confidence="low",
        checkin_note="Containment is flat. I will propose the kill at the gate.",
    ),
    PilotStory(
        key="knowledge-search",
        name="Agent knowledge search",
        business_unit=CS,
        problem="Agents put customers on hold to search four wikis for the right policy answer.",
        outcome="The answer and its source in one search, so calls end sooner.",
        owner="sofia.alvarez",
        sponsor="sofia.alvarez",
        started_ago=160,
        advanced_ago=(100,),
        decided_by=(PORTFOLIO_OFFICE,),
        review_in_days=45,
        budget=70_000,
        spent=31_000,
        kpis=(KpiStory("handle-time", "Average handle time", "min", "decrease", 9.5, 7.0, reach=0.6, decimals=2),),
        kill_criteria=(
            KillStory(
                "handle-time-up",
                "Stop if average handle time rises above the 9.5-minute baseline after three months.",
                "handle-time",
                "above",
                9.5,
                150,
            ),
        ),
        checkin_note="Running it myself until I find an owner in the knowledge team.",
    ),
    # Finance
    PilotStory(
        key="invoice-matching",
        name="Invoice three-way matching",
        business_unit=FINANCE,
        problem="Supplier invoices wait days for a clerk to match them to purchase orders and goods receipts; "
        "late payments cost us early-payment discounts.",
        outcome="Most invoices matched automatically the day they arrive.",
        owner="elena.rossi",
        sponsor="david.okafor",
        started_ago=400,
        advanced_ago=(310, 130),
        review_in_days=75,
        budget=210_000,
        spent=168_000,
        kpis=(
            KpiStory("auto-match-rate", "Invoices matched automatically", "%", "increase", 42, 85, reach=1.02),
            KpiStory(
                "cost-per-invoice", "Processing cost per invoice", "€", "decrease", 4.10, 1.80, reach=0.9, decimals=2
            ),
        ),
        kill_criteria=(
            KillStory(
                "auto-match-floor",
                "Stop if fewer than 50% of invoices match automatically after four months.",
                "auto-match-rate",
                "below",
                50,
                120,
            ),
        ),
        attested=("runbook", "drift_monitoring"),
    ),
    PilotStory(
        key="expense-audit",
        name="Expense report anomaly detection",
        business_unit=FINANCE,
        problem="Auditors sample 5% of expense reports by hand and still miss most policy breaches.",
        outcome="Every report screened; auditors look only at the suspicious ones.",
        owner="elena.rossi",
        sponsor="david.okafor",
        started_ago=560,
        advanced_ago=(470, 350, 120),
        review_in_days=90,
        budget=130_000,
        spent=118_700,
        kpis=(
            KpiStory("breaches-caught", "Policy breaches caught", "%", "increase", 30, 75, reach=1.1),
            KpiStory("auditor-hours", "Auditor hours per month", "h", "decrease", 320, 120, reach=1.05, decimals=0),
        ),
        kill_criteria=(
            KillStory(
                "false-alarms",
                "Stop if auditors reject more than half of the flagged reports for two months running.",
            ),
        ),
    ),
    PilotStory(
        key="cash-forecasting",
        name="Cash-flow forecasting",
        business_unit=FINANCE,
        problem="The 13-week cash forecast is a spreadsheet rebuilt every Monday and is often off by a fifth.",
        outcome="A forecast accurate enough to cut the revolving credit facility.",
        owner="james.whitfield",
        sponsor="david.okafor",
        started_ago=210,
        advanced_ago=(150,),
        review_in_days=10,
        budget=85_000,
        spent=71_200,
        kpis=(
            KpiStory(
                "forecast-error",
                "13-week cash forecast error",
                "%",
                "decrease",
                18,
                8,
                reach=0.4,
                tail=(0.42, 0.3, 0.36, 0.33),
                notes=((1, "Still above the 12% bar agreed at the start."),),
            ),
        ),
        kill_criteria=(
            KillStory(
                "error-above-12",
                "Stop if the forecast error is still above 12% at the six-month review.",
                "forecast-error",
                "above",
                12,
                182,
            ),
        ),
        confidence="medium",
        checkin_note="Error stuck around 14%. We agreed 12% as the bar; the gate will have to decide.",
        attested=("data_pipeline",),
    ),
    PilotStory(
        key="contract-clause-extraction",
        name="Contract clause extraction",
        business_unit=FINANCE,
        problem="Procurement reads every supplier contract at renewal to find liability, indexation and "
        "termination clauses; it takes an hour and a half per contract.",
        outcome="Key clauses extracted and checked against policy before the renewal meeting.",
        owner="lucas.moreau",
        sponsor="david.okafor",
        started_ago=140,
        advanced_ago=(95,),
        override=(
            0,
            "Procurement needs the extraction for the January renewal wave. Kill criteria to be agreed "
            "with Legal within 30 days.",
        ),
        rationales=("Pilot approval with one gap: no kill criteria yet (see override).",),
        review_in_days=30,
        budget=90_000,
        spent=44_600,
        kpis=(
            KpiStory("review-time", "Review time per contract", "min", "decrease", 95, 30, reach=0.6, decimals=0),
            KpiStory("clauses-correct", "Clauses extracted correctly", "%", "increase", 78, 95, reach=0.7),
        ),
        attested=("governance",),
    ),
    PilotStory(
        key="collections-prioritisation",
        name="Collections call prioritisation",
        business_unit=FINANCE,
        problem="Collectors call overdue customers in alphabetical order, so the riskiest balances wait.",
        outcome="Calls ordered by the likelihood of paying, so cash comes in sooner.",
        owner="james.whitfield",
        sponsor="david.okafor",
        started_ago=230,
        advanced_ago=(170,),
        review_in_days=35,
        budget=65_000,
        spent=40_100,
        kpis=(
            KpiStory("dso", "Days sales outstanding", "days", "decrease", 52, 44, reach=0.5),
            KpiStory("promises-kept", "Payment promises kept", "%", "increase", 61, 75, reach=0.55),
        ),
        kill_criteria=(
            KillStory(
                "dso-worse",
                "Stop if DSO is above the 52-day baseline after six months.",
                "dso",
                "above",
                52,
                180,
            ),
        ),
        checkins_stop_ago=95,
        confidence="medium",
        checkin_note="Busy with the ERP migration; James has my support.",
    ),
    PilotStory(
        key="vendor-onboarding",
        name="Vendor onboarding document checks",
        business_unit=FINANCE,
        problem="New suppliers wait three weeks while AP checks bank letters, tax forms and sanctions lists "
        "by hand; bad vendor master data then breaks reconciliations at month end.",
        outcome="Suppliers onboarded in a week with clean master data.",
        owner="james.whitfield",
        sponsor="david.okafor",
        started_ago=120,
        advanced_ago=(60,),
        review_in_days=50,
        budget=55_000,
        spent=21_300,
        kpis=(
            KpiStory("cycle-time", "Onboarding cycle time", "days", "decrease", 21, 7, reach=0.55),
            KpiStory(
                "exceptions-caught",
                "Compliance exceptions caught",
                "exceptions/month",
                "increase",
                None,
                25,
                reach=0.6,
                reference=8,
                decimals=0,
                noise=0.08,
                notes=((1, "No baseline: the manual process never logged the exceptions it caught."),),
            ),
        ),
        kill_criteria=(
            KillStory(
                "cycle-time-not-down",
                "Stop if onboarding still takes more than 18 days after four months.",
                "cycle-time",
                "above",
                18,
                120,
            ),
        ),
    ),
    PilotStory(
        key="month-end-close",
        name="Month-end reconciliation assistant",
        business_unit=FINANCE,
        problem="Month-end close takes eight working days, most of them manual reconciliations. (Killed: the "
        "breaks came from bad vendor master data, which no matching model can fix.)",
        outcome="Close the books in five working days.",
        owner="elena.rossi",
        sponsor="david.okafor",
        started_ago=300,
        status="killed",
        ended_ago=210,
        end_rationale="Killed at the pilot approval gate. Lesson: reconciliation breaks came from errors in "
        "vendor master data upstream, not from matching effort; the model cannot fix bad inputs. Fix the data "
        "first (now the vendor-onboarding pilot).",
        budget=45_000,
        spent=29_800,
        kpis=(KpiStory("days-to-close", "Working days to close", "days", "decrease", 8, 5, reach=0.07),),
        kill_criteria=(
            KillStory(
                "close-not-faster",
                "Stop if the close is not at least one day faster after two closes.",
                "days-to-close",
                "above",
                7,
                75,
            ),
        ),
        confidence="low",
    ),
    # Operations
    PilotStory(
        key="predictive-maintenance",
        name="Predictive maintenance for conveyor lines",
        business_unit=OPERATIONS,
        problem="Conveyor gearboxes fail without warning and stop a whole line for a shift.",
        outcome="Failing gearboxes replaced in planned stops, before they break.",
        owner="ravi.patel",
        sponsor="margaret.chen",
        started_ago=700,
        advanced_ago=(610, 430, 200),
        review_in_days=120,
        budget=320_000,
        spent=301_000,
        kpis=(
            KpiStory("unplanned-downtime", "Unplanned downtime", "h/month", "decrease", 42, 15, reach=1.1),
            KpiStory(
                "maintenance-cost",
                "Maintenance cost per line",
                "€/month",
                "decrease",
                18_500,
                14_000,
                reach=1.05,
                decimals=0,
            ),
        ),
        kill_criteria=(
            KillStory(
                "downtime-not-down",
                "Stop if unplanned downtime is not below 35 h/month after six months.",
                "unplanned-downtime",
                "above",
                35,
                180,
            ),
        ),
        checkin_note="Rolled out to the third plant. Keep the retraining cadence.",
    ),
    PilotStory(
        key="shift-scheduling",
        name="Shift scheduling optimiser",
        business_unit=OPERATIONS,
        problem="Supervisors build rosters in spreadsheets; late changes drive overtime and no-shows.",
        outcome="Rosters that fit demand and preferences, published two weeks ahead.",
        owner="lucas.moreau",
        sponsor="thomas.berger",
        started_ago=300,
        advanced_ago=(230, 70),
        review_in_days=55,
        budget=110_000,
        spent=76_900,
        kpis=(
            KpiStory("overtime", "Overtime hours per week", "h/week", "decrease", 410, 250, reach=0.85, decimals=0),
            KpiStory("late-changes", "Shifts changed after publication", "%", "decrease", 22, 8, reach=0.9),
        ),
        kill_criteria=(
            KillStory(
                "overtime-up",
                "Stop if weekly overtime is above the 410-hour baseline after three months.",
                "overtime",
                "above",
                410,
                90,
            ),
        ),
    ),
    PilotStory(
        key="visual-quality-inspection",
        name="Visual quality inspection",
        business_unit=OPERATIONS,
        problem="Inspectors check moulded parts by eye at line speed; defects still reach customers.",
        outcome="Cameras reject defective parts before packing.",
        owner="ravi.patel",
        sponsor="thomas.berger",
        started_ago=330,
        advanced_ago=(250,),
        review_in_days=20,
        budget=160_000,
        spent=172_500,
        kpis=(
            KpiStory(
                "escaped-defects", "Defects reaching customers", "ppm", "decrease", 850, 300, reach=0.5, decimals=0
            ),
            KpiStory("false-rejects", "Good parts rejected", "%", "decrease", 6, 2, reach=0.55, decimals=2),
        ),
        kill_criteria=(
            KillStory(
                "false-rejects-high",
                "Stop if more than 8% of good parts are rejected.",
                "false-rejects",
                "above",
                8,
                60,
            ),
        ),
        confidence="medium",
        checkin_note="Works on line 2 only; the camera mounts for the other lines keep slipping.",
        attested=("data_pipeline", "monitoring"),
    ),
    PilotStory(
        key="energy-optimisation",
        name="Compressed-air energy optimisation",
        business_unit=OPERATIONS,
        problem="Compressors run flat out on weekends and nights whatever the demand.",
        outcome="Compressors follow demand, cutting energy per unit produced.",
        owner="lucas.moreau",
        sponsor="thomas.berger",
        started_ago=180,
        advanced_ago=(110,),
        review_in_days=40,
        budget=75_000,
        spent=38_400,
        kpis=(
            KpiStory(
                "energy-per-unit", "Energy per unit produced", "kWh/unit", "decrease", 2.4, 2.0, reach=0.5, decimals=2
            ),
        ),
        kill_criteria=(
            KillStory(
                "energy-up",
                "Stop if energy per unit is above the 2.4 kWh baseline after three months.",
                "energy-per-unit",
                "above",
                2.4,
                90,
            ),
        ),
        readings_stop_ago=45,
        confidence="medium",
        checkin_note="Meter feed has been down since the SCADA upgrade; Lucas is chasing IT.",
    ),
    PilotStory(
        key="safety-incident-nlp",
        name="Safety report classification",
        business_unit=OPERATIONS,
        problem="Near-miss reports are free text; the safety team reads them weekly and trends arrive late.",
        outcome="Every report classified within a day, with trends per site.",
        owner=None,
        sponsor="thomas.berger",
        started_ago=50,
        review_in_days=40,
        budget=None,
        spent=None,
        kpis=(KpiStory("classified-in-24h", "Reports classified within 24 hours", "%", "increase", 40, 90, reach=0.5),),
        kill_criteria=(KillStory("safety-team-rejects", "Stop if the safety team rejects the categories."),),
        confidence="medium",
        checkin_note="The safety lead who started this moved sites. We need a new owner.",
    ),
    PilotStory(
        key="field-service-routing",
        name="Field service routing",
        business_unit=OPERATIONS,
        problem="Dispatchers assign technicians by postcode in the morning and re-plan by phone all day.",
        outcome="More jobs per technician with less driving.",
        owner="noah.fischer",
        sponsor="thomas.berger",
        started_ago=380,
        advanced_ago=(300, 110),
        review_in_days=60,
        budget=140_000,
        spent=109_200,
        kpis=(
            KpiStory(
                "jobs-per-technician", "Jobs per technician", "jobs/day", "increase", 4.2, 5.5, reach=0.95, decimals=2
            ),
            KpiStory("drive-time", "Drive time per job", "min", "decrease", 38, 28, reach=0.9),
        ),
        kill_criteria=(
            KillStory(
                "jobs-not-up",
                "Stop if jobs per technician stay below 4.5 a day after four months.",
                "jobs-per-technician",
                "below",
                4.5,
                120,
            ),
        ),
        checkin_note="Noah has left; dispatch still runs on the routes. I need a new owner.",
    ),
    PilotStory(
        key="work-order-intake",
        name="Maintenance work-order intake",
        business_unit=OPERATIONS,
        problem="Operators report faults by phone and email; planners retype them into work orders.",
        outcome="Work orders created from the operator's message, with the asset and priority filled in.",
        owner="ravi.patel",
        sponsor="thomas.berger",
        started_ago=14,
        review_in_days=30,
        budget=25_000,
        spent=2_100,
        kill_criteria=(KillStory("planners-retype", "Stop if planners still retype most orders after two months."),),
        checkin_note="Kick-off done. Ravi to define the KPIs with the planners.",
    ),
    # Supply Chain
    PilotStory(
        key="demand-forecasting",
        name="Demand forecasting",
        business_unit=SUPPLY_CHAIN,
        problem="Planners forecast 4,000 SKUs by hand in spreadsheets; errors show up as stockouts and overstock.",
        outcome="Weekly forecasts per SKU and store, with fewer stockouts and less safety stock.",
        owner="mei.tanaka",
        sponsor="margaret.chen",
        started_ago=650,
        advanced_ago=(560, 400, 180),
        review_in_days=100,
        budget=280_000,
        spent=254_000,
        kpis=(
            KpiStory("mape", "Forecast error (MAPE)", "%", "decrease", 32, 18, reach=1.1),
            KpiStory("stockouts", "Stockouts", "stockouts/week", "decrease", 45, 20, reach=1.05, decimals=0),
        ),
        kill_criteria=(
            KillStory(
                "mape-not-better",
                "Stop if forecast error is not below 28% after four months.",
                "mape",
                "above",
                28,
                120,
            ),
        ),
    ),
    PilotStory(
        key="inventory-rebalancing",
        name="Inventory rebalancing between warehouses",
        business_unit=SUPPLY_CHAIN,
        problem="One warehouse runs out while another holds months of the same stock.",
        outcome="Stock moved ahead of demand so orders ship complete from the nearest warehouse.",
        owner="mei.tanaka",
        sponsor="henrik.larsen",
        started_ago=360,
        advanced_ago=(280, 100),
        review_in_days=25,
        budget=120_000,
        spent=98_300,
        kpis=(
            KpiStory(
                "fill-rate",
                "Order fill rate",
                "%",
                "increase",
                91,
                97,
                reach=0.95,
                tail=(0.88, 0.79, 0.7, 0.62),
                notes=((3, "New carrier contract: transfer lead times up from 2 to 4 days."),),
            ),
            KpiStory("transfers", "Emergency transfers", "transfers/week", "decrease", 30, 12, reach=0.9, decimals=0),
        ),
        kill_criteria=(
            KillStory(
                "fill-rate-floor",
                "Stop if the fill rate falls below the 91% baseline.",
                "fill-rate",
                "below",
                91,
                90,
            ),
        ),
        confidence="medium",
        checkin_note="Fill rate slipping since the carrier change. Mei to retrain on the new lead times.",
    ),
    PilotStory(
        key="supplier-risk",
        name="Supplier risk scoring",
        business_unit=SUPPLY_CHAIN,
        problem="We hear about supplier trouble when a delivery does not arrive.",
        outcome="Supply disruptions flagged two weeks ahead, with time to switch suppliers.",
        owner="oliver.grant",
        sponsor=None,
        started_ago=150,
        advanced_ago=(90,),
        review_in_days=30,
        budget=80_000,
        spent=35_700,
        kpis=(KpiStory("early-warnings", "Disruptions flagged two weeks ahead", "%", "increase", 20, 60, reach=0.55),),
        kill_criteria=(
            KillStory(
                "warnings-useless",
                "Stop if fewer than 30% of disruptions are flagged ahead after six months.",
                "early-warnings",
                "below",
                30,
                180,
            ),
        ),
        checkins_stop_ago=70,
        checkin_sponsor="henrik.larsen",
        confidence="medium",
        checkin_note="I am moving to the ERP programme; this pilot needs a new sponsor.",
    ),
    PilotStory(
        key="route-optimisation",
        name="Outbound route optimisation",
        business_unit=SUPPLY_CHAIN,
        problem="Delivery routes are planned from fixed zones and ignore traffic and time windows.",
        outcome="Cheaper routes that still hit the customers' delivery windows.",
        owner="oliver.grant",
        sponsor="henrik.larsen",
        started_ago=130,
        advanced_ago=(45,),
        review_in_days=60,
        budget=100_000,
        spent=41_900,
        kpis=(
            KpiStory("cost-per-delivery", "Cost per delivery", "€", "decrease", 14.2, 11.5, reach=0.6, decimals=2),
            KpiStory("on-time", "Deliveries on time", "%", "increase", 89, 95, reach=0.65),
        ),
        kill_criteria=(
            KillStory(
                "on-time-drop",
                "Stop if on-time delivery falls below 85%.",
                "on-time",
                "below",
                85,
                30,
            ),
        ),
        attested=("data_pipeline", "integration_plan"),
    ),
    PilotStory(
        key="customs-classification",
        name="Customs tariff classification",
        business_unit=SUPPLY_CHAIN,
        problem="Brokers classify every new SKU for customs by hand, which holds up first shipments.",
        outcome="Tariff codes proposed for new SKUs, checked by a broker in minutes.",
        owner="oliver.grant",
        sponsor="henrik.larsen",
        started_ago=60,
        review_in_days=30,
        budget=35_000,
        spent=12_400,
        kpis=(
            KpiStory("auto-classified", "Declarations classified automatically", "%", "increase", 12, 70, reach=0.4),
        ),
        kill_criteria=(
            KillStory(
                "accuracy-floor",
                "Stop if fewer than 20% of declarations are classified automatically after three months.",
                "auto-classified",
                "below",
                20,
                90,
            ),
        ),
    ),
    PilotStory(
        key="warehouse-slotting",
        name="Warehouse slotting",
        business_unit=SUPPLY_CHAIN,
        problem="Pickers walk the length of the warehouse for fast movers stored at the back. (Killed: the "
        "gains vanished after the layout change.)",
        outcome="Fast movers slotted near dispatch, cutting travel per order.",
        owner="mei.tanaka",
        sponsor="henrik.larsen",
        started_ago=520,
        advanced_ago=(430, 300),
        status="killed",
        ended_ago=120,
        end_rationale="Killed at the scale decision. Lesson: the gains vanished after the Q2 layout change; "
        "the model had only six weeks of data for the new layout and could not beat fixed slots. Re-measure "
        "the baseline after any physical change before scaling.",
        budget=115_000,
        spent=102_600,
        kpis=(
            KpiStory(
                "travel-per-order",
                "Pick travel per order",
                "m",
                "decrease",
                310,
                220,
                reach=0.8,
                tail=(0.72, 0.55, 0.38, 0.25, 0.15, 0.1),
                decimals=0,
                notes=((5, "Layout change: racks 12-20 moved."),),
            ),
        ),
        kill_criteria=(
            KillStory(
                "travel-not-down",
                "Stop if travel per order is above 280 m after six months.",
                "travel-per-order",
                "above",
                280,
                180,
            ),
        ),
        confidence="low",
        attested=("runbook",),
    ),
    PilotStory(
        key="freight-invoice-audit",
        name="Freight invoice audit",
        business_unit=SUPPLY_CHAIN,
        problem="Carrier invoices are paid unchecked; surcharges and duplicate charges slip through.",
        outcome="Overcharges caught and recovered every month.",
        owner="oliver.grant",
        sponsor="henrik.larsen",
        started_ago=260,
        advanced_ago=(190,),
        status="on_hold",
        ended_ago=40,
        end_rationale="Hold until the carriers' EDI invoice feed is live; the PDF extraction is too brittle to "
        "take to production.",
        review_in_days=45,
        budget=70_000,
        spent=52_300,
        kpis=(
            KpiStory(
                "overcharges-recovered",
                "Freight overcharges recovered",
                "€/month",
                "increase",
                4_000,
                15_000,
                reach=0.7,
                decimals=0,
            ),
        ),
        kill_criteria=(
            KillStory(
                "recovery-floor",
                "Stop if recoveries stay below €6,000 a month after six months.",
                "overcharges-recovered",
                "below",
                6_000,
                180,
            ),
        ),
        confidence="medium",
        attested=("data_pipeline", "governance"),
    ),
)


# -- words -----------------------------------------------------------------------------------------

ADVANCE_RATIONALES = {
    "poc": "Pilot approval: owner and sponsor named, baseline signed off, success metrics and kill criteria agreed.",
    "pilot": "Production readiness: value shown against the baseline for three readings running; pipeline, "
    "integration, monitoring, change and governance evidence attested.",
    "production": "Scale decision: targets met and stable, no critical flags, runbook and drift monitoring owned.",
}

EVIDENCE = {
    "data_pipeline": "Nightly extract for {name} lands in the feature store through the scheduler; no manual "
    "steps for four weeks running.",
    "integration_plan": "Integration design for {name} signed off by enterprise architecture; the write-back "
    "uses the existing service bus.",
    "monitoring": "Dashboard and alerts for {name}: input volume, model confidence and error rate page the "
    "on-call analyst.",
    "change_management": "Training sessions held and a one-page guide for the people affected by {name}; "
    "super-users named per team.",
    "governance": "Risk, privacy and compliance review of {name} passed; the data protection impact "
    "assessment is on file.",
    "runbook": "Runbook for {name} published on the support wiki with the escalation path to the vendor.",
    "drift_monitoring": "Monthly drift report for {name}; retraining owned by the analytics team.",
}
GATE_EVIDENCE = {
    "pilot": ("data_pipeline", "integration_plan", "monitoring", "change_management", "governance"),
    "production": ("runbook", "drift_monitoring"),
}

CHECKIN_NOTES = {
    "high": ("On track.", "Good progress; keep going.", "Team is using it daily.", "Numbers look right."),
    "medium": ("Some progress; watch the numbers.", "Slower than planned.", "Adoption is patchy."),
    "low": ("Not convinced it will pay off.", "No progress since last month."),
}


# -- building the document -------------------------------------------------------------------------


def _day(today: dt.date, days_ago: int) -> str:
    return (today - dt.timedelta(days=days_ago)).isoformat()


def _person(person: Person) -> dict[str, Any]:
    return {
        "username": person.username,
        "email": f"{person.username}@{DEMO_EMAIL_DOMAIN}",
        "name": person.name,
        "active": person.active,
        "roles": list(person.roles),
    }


def _series(story: KpiStory, count: int, fractions: list[float], rng: random.Random) -> list[float]:
    """Progress of each reading: an ease-out curve to ``reach``, then the exact ``tail``."""
    progress = [story.reach * (1 - (1 - t) ** 2) for t in fractions]
    # The latest readings carry no noise, so a healthy curve cannot look like drift by chance.
    quiet = max(3, len(story.tail))
    for index in range(count - quiet):
        progress[index] += rng.gauss(0, story.noise)
    for offset, value in enumerate(story.tail):
        index = count - len(story.tail) + offset
        if index >= 0:
            progress[index] = value
    return progress


def _value(story: KpiStory, progress: float) -> float:
    start = story.baseline if story.baseline is not None else story.reference
    assert start is not None, f"KPI {story.key} needs a baseline or a reference"
    value = start + progress * (story.target - start)
    value = max(value, 0.0)
    if story.unit == "%":
        value = min(value, 100.0)
    return round(value, story.decimals) if story.decimals else float(round(value))


def _reading_dates(pilot: PilotStory, lag: int) -> list[int]:
    """Days-ago of the weekly readings, oldest first."""
    latest = (pilot.ended_ago or pilot.readings_stop_ago) + lag
    earliest = min(pilot.started_ago - 7, READINGS_WINDOW_DAYS)
    return list(range(latest, earliest + 1, 7))[::-1]


def _kpi(today: dt.date, pilot: PilotStory, story: KpiStory, lag: int) -> dict[str, Any]:
    rng = random.Random(f"{pilot.key}/{story.key}")
    days = _reading_dates(pilot, lag)
    life = pilot.started_ago - days[-1] if days else 1
    fractions = [(pilot.started_ago - ago) / life for ago in days]
    progress = _series(story, len(days), fractions, rng)
    notes = dict(story.notes)
    readings = [
        {"on": _day(today, ago), "value": _value(story, p), "note": notes.get(len(days) - index, "")}
        for index, (ago, p) in enumerate(zip(days, progress, strict=True))
    ]
    has_baseline = story.baseline is not None
    return {
        "key": story.key,
        "name": story.name,
        "unit": story.unit,
        "direction": story.direction,
        "baseline": float(story.baseline) if has_baseline else None,
        "baseline_on": _day(today, pilot.started_ago + 14) if has_baseline else None,
        "target": float(story.target),
        "target_on": (
            _day(today, pilot.started_ago - story.target_after_days) if story.target_after_days is not None else None
        ),
        "readings": readings,
    }


def _kill_criterion(today: dt.date, pilot: PilotStory, story: KillStory) -> dict[str, Any]:
    return {
        "key": story.key,
        "description": story.description,
        "kpi": story.kpi,
        "comparator": story.comparator,
        "threshold": float(story.threshold) if story.threshold is not None else None,
        "evaluate_on": (
            _day(today, pilot.started_ago - story.evaluate_after_days)
            if story.evaluate_after_days is not None
            else None
        ),
    }


def _checkins(today: dt.date, pilot: PilotStory, rng: random.Random) -> list[dict[str, Any]]:
    sponsor = pilot.checkin_sponsor or pilot.sponsor
    if sponsor is None:
        return []
    latest = max(pilot.ended_ago or 0, pilot.checkins_stop_ago) + rng.randrange(2, 12)
    days = list(range(latest, pilot.started_ago - 7 + 1, CHECKIN_EVERY_DAYS))[::-1]
    checkins = []
    for index, ago in enumerate(days):
        is_latest = index == len(days) - 1
        if is_latest:
            confidence = pilot.confidence
        elif index == len(days) - 2 and pilot.confidence == "low":
            # Confidence fades before it is lost: the check-in before a "low" one is lukewarm.
            confidence = "medium"
        else:
            confidence = rng.choice(("high", "high", "medium"))
        note = pilot.checkin_note if is_latest and pilot.checkin_note else rng.choice(CHECKIN_NOTES[confidence])
        checkins.append({"on": _day(today, ago), "sponsor": sponsor, "confidence": confidence, "note": note})
    return checkins


def _attestation(today: dt.date, pilot: PilotStory, code: str, days_ago: int) -> dict[str, Any]:
    return {
        "criterion": code,
        "by": pilot.owner or PORTFOLIO_OFFICE,
        "on": _day(today, days_ago),
        "evidence": EVIDENCE[code].format(name=pilot.name),
    }


def _attestations(today: dt.date, pilot: PilotStory, rng: random.Random) -> list[dict[str, Any]]:
    attestations = []
    # Evidence for each gate already passed, recorded in the weeks before the review.
    for gate, advanced in zip(PHASES, pilot.advanced_ago, strict=False):
        for code in GATE_EVIDENCE.get(gate, ()):
            attestations.append(_attestation(today, pilot, code, advanced + rng.randrange(7, 30)))
    # Evidence gathered so far for the next gate.
    entered = pilot.advanced_ago[-1] if pilot.advanced_ago else pilot.started_ago
    until = pilot.ended_ago or 0
    for code in pilot.attested:
        attestations.append(_attestation(today, pilot, code, rng.randrange(until + 3, max(until + 4, entered - 7))))
    return sorted(attestations, key=lambda item: (item["on"], item["criterion"]))


def _gate_reviews(today: dt.date, pilot: PilotStory) -> list[dict[str, Any]]:
    reviews = []
    for index, advanced in enumerate(pilot.advanced_ago):
        gate = PHASES[index]
        by = pilot.decided_by[index] if index < len(pilot.decided_by) else pilot.sponsor
        override = pilot.override[1] if pilot.override and pilot.override[0] == index else None
        reviews.append(
            {
                "on": _day(today, advanced),
                "from": gate,
                "to": PHASES[index + 1],
                "decision": "advance",
                "by": by or PORTFOLIO_OFFICE,
                "rationale": pilot.rationales[index] if index < len(pilot.rationales) else ADVANCE_RATIONALES[gate],
                "override": override,
            }
        )
    if pilot.status in ("killed", "on_hold"):
        assert pilot.ended_ago is not None, f"{pilot.key} needs the date of its {pilot.status} review"
        decision = "kill" if pilot.status == "killed" else "hold"
        reviews.append(
            {
                "on": _day(today, pilot.ended_ago),
                "from": pilot.phase,
                "to": PHASES[PHASES.index(pilot.phase) + 1],
                "decision": decision,
                "by": (pilot.sponsor or PORTFOLIO_OFFICE) if decision == "kill" else PORTFOLIO_OFFICE,
                "rationale": pilot.end_rationale,
                "override": None,
            }
        )
    return reviews


def _pilot(today: dt.date, pilot: PilotStory) -> dict[str, Any]:
    rng = random.Random(pilot.key)
    # Not every pilot reads on the same weekday, and the latest reading is up to five days old.
    lag = rng.randrange(0, 6)
    phase_entered_ago = pilot.advanced_ago[-1] if pilot.advanced_ago else pilot.started_ago
    next_review = None if pilot.status == "killed" or pilot.review_in_days is None else -pilot.review_in_days
    return {
        "key": pilot.key,
        "name": pilot.name,
        "business_unit": pilot.business_unit,
        "problem": pilot.problem,
        "outcome": pilot.outcome,
        "owner": pilot.owner,
        "sponsor": pilot.sponsor,
        "phase": pilot.phase,
        "status": pilot.status,
        "started_on": _day(today, pilot.started_ago),
        "phase_entered_on": _day(today, phase_entered_ago),
        "next_review_on": _day(today, next_review) if next_review is not None else None,
        "budget": pilot.budget,
        "spent": pilot.spent,
        "kpis": [_kpi(today, pilot, story, lag) for story in pilot.kpis],
        "kill_criteria": [_kill_criterion(today, pilot, story) for story in pilot.kill_criteria],
        "checkins": _checkins(today, pilot, rng),
        "attestations": _attestations(today, pilot, rng),
        "gate_reviews": _gate_reviews(today, pilot),
    }


def demo_document(today: dt.date) -> dict[str, Any]:
    """The demo portfolio as of ``today``, in the exchange format; the same date gives the same document."""
    return {
        "format": FORMAT,
        "people": [_person(person) for person in PEOPLE],
        "pilots": [_pilot(today, pilot) for pilot in PILOTS],
    }


# -- logins ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    username: str
    name: str
    title: str
    role: str
    active: bool


def demo_logins(document: dict[str, Any]) -> list[DemoLogin]:
    """Who can sign in to the demo and in which role, read from the document."""
    owners = {pilot["owner"] for pilot in document["pilots"]}
    sponsors = {pilot["sponsor"] for pilot in document["pilots"]}
    titles = {person.username: person.title for person in PEOPLE}
    logins = []
    for person in document["people"]:
        username = person["username"]
        roles = [role.replace("_", " ") for role in person["roles"]]
        roles += [relation for relation, names in (("owner", owners), ("sponsor", sponsors)) if username in names]
        role = ", ".join(roles) or "reader"
        logins.append(DemoLogin(username, person["name"], titles.get(username, ""), role, person["active"]))
    return logins


def demo_logins_enable(*, usernames: Iterable[str], staff: Iterable[str] = (PORTFOLIO_OFFICE,)) -> int:
    """Give the demo users the demo password, and ``staff`` access to the admin; returns how many."""
    users = get_user_model().objects.filter(username__in=list(usernames))
    # One hash shared by every demo account: a slow hash per user would make seeding take seconds
    # per person, and these accounts share one published password anyway.
    count = users.update(password=make_password(DEMO_PASSWORD))
    users.filter(username__in=list(staff)).update(is_staff=True)
    return count
