"""The worker's delivery thread: sends what is due when this process records an event, and
every few seconds for retries and for events other processes (the app, the CLI) recorded."""
from __future__ import annotations

import logging
import threading

from studio.engine.db.database import Database
from studio.engine.webhooks import outbox
from studio.engine.webhooks.deliver import deliver_due, new_client
from studio.engine.webhooks.store import Secrets

log = logging.getLogger("studio.webhooks")
INTERVAL_S = 3.0


class DeliveryLoop:
    def __init__(self, db: Database, secrets: Secrets, *, interval_s: float = INTERVAL_S) -> None:
        self.db = db
        self.secrets = secrets
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-deliveries", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 15.0) -> None:
        self._stop.set()
        outbox.WAKE.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        with new_client() as http:
            while not self._stop.is_set():
                try:
                    while deliver_due(self.db, self.secrets, client=http) and not self._stop.is_set():
                        pass  # a full batch may leave more due
                except Exception as exc:  # a database outage or a bug: said, and tried again later
                    log.warning("webhook deliveries paused: %s: %s", type(exc).__name__, exc)
                outbox.WAKE.wait(self.interval_s)
                outbox.WAKE.clear()
