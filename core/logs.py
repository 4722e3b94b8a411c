"""Log records as one JSON object a line (LOG_FORMAT=json), for log pipelines: the request id,
and the token's id and prefix when a bearer token made the request, never a secret."""

import json
import logging
from datetime import UTC, datetime

from .emails import current_request


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        # django.request logs a refusal after the middleware returned, with the request attached.
        request = current_request.get() or getattr(record, "request", None)
        token = getattr(request, "token", None) if request is not None else None
        if token is not None:
            entry["token_id"], entry["token_prefix"] = token.pk, token.prefix
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
