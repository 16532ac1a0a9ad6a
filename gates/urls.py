"""Routes of the phase gates (included at the site root by portfolio/urls.py)."""

from __future__ import annotations

from django.urls import path

from gates import views

urlpatterns = [
    path("pilots/<slug:key>/gate/", views.gate_review, name="gate_review"),
    path("pilots/<slug:key>/gate/evidence/<slug:code>/", views.attest, name="gate_attest"),
    path("pilots/<slug:key>/gate/decision/", views.decide, name="gate_decide"),
    # Not under /pilots/: "pilots/<key>/" would take it for a pilot's key.
    path("lessons/similar/", views.similar_lessons, name="similar_lessons"),
]
