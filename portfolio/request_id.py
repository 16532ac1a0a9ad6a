"""One request id through the web process and the tasks it queues, on every log line.

The middleware takes the proxy's ``X-Request-ID`` (or makes one), keeps it in a
context variable, and echoes it in the response. Tasks published while it is set carry
it in their headers, and the worker puts it back while the task runs, so a reading's
POST and the rescan it caused can be found together in the logs.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_current: ContextVar[str] = ContextVar("request_id", default="-")
# A proxy's id is trusted only if it looks like one: it ends up in every log line.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str:
    return _current.get()


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if _ACCEPTABLE.match(incoming) else uuid.uuid4().hex
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record so formatters can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get()
        return True


@before_task_publish.connect
def _carry_request_id(headers: dict | None = None, **kwargs: object) -> None:
    if headers is not None and _current.get() != "-":
        headers.setdefault("request_id", _current.get())


@task_prerun.connect
def _restore_request_id(task: object = None, task_id: str = "", **kwargs: object) -> None:
    request = getattr(task, "request", None)
    _current.set(getattr(request, "request_id", None) or f"task-{task_id}")


@task_postrun.connect
def _forget_request_id(**kwargs: object) -> None:
    _current.set("-")
