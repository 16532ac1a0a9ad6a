"""The locust scenario's request names: the table groups figures by them and the budgets refer to them."""

from __future__ import annotations

SIGN_IN_PAGE = "sign-in page"
SIGN_IN = "sign in"
LANDING = "landing page (after sign in)"
DASHBOARD = "dashboard"
DASHBOARD_FILTERED = "dashboard (htmx filter)"
PILOT_LIST = "pilot list"
PILOT_PAGE = "pilot page"
CHART_IMAGE = "pilot page: KPI chart image"
MY_PILOTS = "my pilots"
MY_PILOTS_REFRESH = "my pilots (htmx refresh)"
READING_POST = "reading POST (htmx)"
READING_REPLACE = "reading POST (htmx, confirm replace)"
API_READINGS = "API: POST a week of readings"
API_PILOT = "API: GET pilot"
API_SUMMARY = "API: GET summary"
