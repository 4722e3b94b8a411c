"""Work a request asks for that its answer must not wait on, or reveal.

`AnswerFirst` is a JSON response that enqueues its task only once it has been sent: WSGI and
ASGI servers call a response's close() after its last byte (PEP 3333; Django's ASGI handler
does the same), so the client has its answer, in the same time whatever it asked for, before
the task is even enqueued. Which backend runs the task is settings.TASKS': with the database
queue (the default) close() is one insert and a worker does the work; the immediate backend
would run it right there in close(), in the server's process but after the answer.
"""

import logging
from typing import Any

from django.http import JsonResponse
from django.tasks import Task

logger = logging.getLogger(__name__)


class AnswerFirst(JsonResponse):
    """A JSON answer that enqueues `task` with `kwargs` once it has been sent. Pass only what
    a queue may keep (never a secret): a queued backend stores the arguments."""

    def __init__(self, data: Any, *, task: Task, kwargs: dict[str, Any], **options: Any):
        super().__init__(data, **options)
        self._then = (task, kwargs)

    def close(self) -> None:
        task, kwargs = self._then
        try:
            task.enqueue(**kwargs)
        except Exception:
            # The answer is sent: the reporter cannot be told, so the operators are.
            logger.exception("Could not enqueue %s after answering", task.module_path)
        finally:
            super().close()  # request_finished: the connections are tidied after the work
