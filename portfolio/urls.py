"""URL configuration: every page needs a login (LoginRequiredMiddleware) but the sign-in page and /healthz.

Each area adds its routes in its own block below; keep the blocks apart.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portfolio import healthz
from portfolio.views import pilots

urlpatterns = [
    path("", pilots.dashboard, name="dashboard"),
    path("pilots/", pilots.pilot_list, name="pilot_list"),
    path("pilots/<slug:key>/", pilots.pilot_detail, name="pilot_detail"),
    # --- owners and sponsors at work (my pilots, readings, check-ins, edits) ---
    # --- digests ---
    # --- dashboard ---
    # Phase gates: /pilots/<key>/gate/ and friends.
    path("", include("gates.urls")),
    # Sign in and out only: no self-service password reset by email (accounts are
    # managed by the portfolio office in the admin).
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
