"""The phase gates app; it hands the portfolio its gate facts through ``portfolio.extensions``."""

from __future__ import annotations

from django.apps import AppConfig


class GatesConfig(AppConfig):
    name = "gates"
    verbose_name = "Phase gates"

    def ready(self) -> None:
        # Imported here: the models are only ready now, and portfolio never imports gates.
        from gates import lessons, selectors
        from portfolio.extensions import registry

        registry.gate_blockers = selectors.gate_blockers
        registry.gate_decisions = selectors.gate_decisions
        registry.gate_overrides = selectors.gate_overrides
        registry.kill_lessons_match = lessons.kill_lessons_match
        registry.similar_killed_pilots = lessons.similar_killed_pilots
