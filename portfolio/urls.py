"""URL configuration: every page needs a login (LoginRequiredMiddleware) but the sign-in page and /healthz.

Each area adds its routes in its own block below; keep the blocks apart.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from portfolio import healthz
from portfolio.api import endpoints as api_endpoints
from portfolio.api import errors as api_errors
from portfolio.views import checkins, dashboard, edits, me, office, pilots, readings, tokens
from portfolio.views import digests as digest_views

urlpatterns = [
    path("pilots/", pilots.pilot_list, name="pilot_list"),
    path("pilots/<slug:key>/", pilots.pilot_detail, name="pilot_detail"),
    # --- owners and sponsors at work (my pilots, readings, check-ins, edits) ---
    path("me/", me.my_pilots, name="my_pilots"),
    path("start/", me.landing, name="landing"),
    path("pilots/<slug:key>/edit/", edits.pilot_edit, name="pilot_edit"),
    path("pilots/<slug:key>/kpis/new/", edits.kpi_create, name="kpi_create"),
    path("pilots/<slug:key>/kpis/<slug:kpi_key>/edit/", edits.kpi_edit, name="kpi_edit"),
    path("pilots/<slug:key>/kpis/<slug:kpi_key>/readings/", readings.kpi_reading, name="kpi_reading"),
    path("pilots/<slug:key>/readings/upload/", readings.readings_upload, name="readings_upload"),
    path("pilots/<slug:key>/readings/upload/commit/", readings.readings_upload_commit, name="readings_upload_commit"),
    path("pilots/<slug:key>/kill-criteria/new/", edits.kill_criterion_create, name="kill_criterion_create"),
    path(
        "pilots/<slug:key>/kill-criteria/<slug:criterion_key>/edit/",
        edits.kill_criterion_edit,
        name="kill_criterion_edit",
    ),
    path("pilots/<slug:key>/checkins/", checkins.checkin_record, name="checkin_record"),
    # Not under /pilots/: "new" would be read as a pilot's key.
    path("office/pilots/new/", office.pilot_create, name="pilot_create"),
    path("office/units/", office.business_units, name="business_units"),
    path("office/units/<int:unit_id>/", office.business_unit_edit, name="business_unit_edit"),
    path("office/people/", office.people, name="people"),
    # --- digests ---
    path("digests/", digest_views.digest_list, name="digest_list"),
    path("digests/<int:pk>/", digest_views.digest_detail, name="digest_detail"),
    path("digests/preferences/", digest_views.digest_preferences, name="digest_preferences"),
    # --- dashboard ---
    path("", dashboard.dashboard_view, name="dashboard"),
    path("dashboard/charts/<slug:chart>.svg", dashboard.dashboard_chart, name="dashboard_chart"),
    path("pilots/export.csv", dashboard.pilot_export, name="pilot_export"),
    path("pilots/<slug:key>/kpis/<slug:kpi_key>/chart.svg", dashboard.kpi_chart, name="kpi_chart"),
    # --- api and integrations (tokens, webhooks) ---
    path("settings/tokens/", tokens.token_list, name="token_list"),
    path("settings/tokens/<int:pk>/revoke/", tokens.token_revoke, name="token_revoke"),
    path("settings/webhooks/", tokens.webhook_list, name="webhook_list"),
    path("api/", api_endpoints.urls()),
    # Any other /api/ address: JSON 404, not the sign-in redirect or an HTML page.
    re_path(r"^api/(?P<rest>.*)$", api_errors.unknown_path),
    # Phase gates: /pilots/<key>/gate/ and friends.
    path("", include("gates.urls")),
    # Sign in and out only: no self-service password reset by email (accounts are
    # managed by the portfolio office in the admin).
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
