"""URL configuration: every page needs a login (LoginRequiredMiddleware) but the sign-in page and /healthz."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from portfolio import healthz, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("pilots/", views.pilot_list, name="pilot_list"),
    path("pilots/<slug:key>/", views.pilot_detail, name="pilot_detail"),
    # Sign in and out only: no self-service password reset by email (accounts are
    # managed by the portfolio office in the admin).
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
