"""docker-compose.yml describes the full stack correctly (no Docker engine here, so we read it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _command(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_it_has_the_five_services_and_a_mail_catcher(services):
    assert {"postgres", "redis", "web", "worker", "beat", "mailpit"} <= set(services)


def test_every_image_is_pinned_to_a_version(services):
    for name, service in services.items():
        image = service.get("image", "")
        tag = image.rpartition(":")[2] if ":" in image else ""
        assert tag and tag != "latest", f"{name}: image {image!r} is not pinned"
        if name not in {"web", "worker", "beat"}:
            assert re.search(r"\d", tag), f"{name}: image {image!r} has no version number"


def test_every_service_has_a_health_check(services):
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"


GUNICORN = "gunicorn -c gunicorn.conf.py portfolio.wsgi"


def test_web_runs_gunicorn_on_the_wsgi_app_after_migrating(services):
    command = _command(services["web"])
    # Its settings come from gunicorn.conf.py (tests/test_gunicorn_config.py), not flags.
    assert f"exec {GUNICORN}" in command
    assert "--workers" not in command and "--bind" not in command
    assert (ROOT / "gunicorn.conf.py").exists()
    assert command.index("migrate") < command.index("gunicorn")
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert (ROOT / "portfolio" / "wsgi.py").exists()


def test_worker_and_beat_are_separate_and_there_is_one_beat(services):
    assert _command(services["worker"]).startswith("celery -A portfolio worker")
    assert "--beat" not in _command(services["worker"]) and " -B" not in _command(services["worker"])
    assert _command(services["beat"]).startswith("celery -A portfolio beat")
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
    beats = [n for n, s in services.items() if s.get("command") and "beat" in _command(s)]
    assert beats == ["beat"]


def test_app_services_share_one_definition_and_wait_for_healthy_servers(services):
    web, worker, beat = services["web"], services["worker"], services["beat"]
    for service in (web, worker, beat):
        assert service["build"] == "."
        assert service["image"] == web["image"]
        assert service["environment"] == web["environment"]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"


def test_app_environment_points_at_the_stack_and_runs_in_production_mode(services):
    env = services["web"]["environment"]
    assert env["DEBUG"] == "0"
    assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379")
    assert "SECRET_KEY" in env and "ALLOWED_HOSTS" in env
    assert "mailpit:1025" in env["EMAIL_URL"]
    pg = services["postgres"]["environment"]
    assert f"{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/{pg['POSTGRES_DB']}" in env["DATABASE_URL"]


def test_redis_keeps_celery_keys(services):
    command = _command(services["redis"])
    assert "--maxmemory-policy noeviction" in command
    assert "--appendonly yes" in command


def test_the_image_it_builds_exists_and_installs_the_pinned_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11[\w.-]*$", dockerfile, re.M)
    assert "pip install -r requirements.txt" in dockerfile
    assert "collectstatic" in dockerfile


def test_the_image_serves_with_the_same_gunicorn_configuration():
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert cmd, "the Dockerfile has no exec-form CMD"
    assert " ".join(yaml.safe_load(cmd.group(1))) == GUNICORN


def test_the_secret_key_in_env_never_goes_into_the_image():
    # `COPY . .` would bake .env (SECRET_KEY) into a layer of the image.
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored
