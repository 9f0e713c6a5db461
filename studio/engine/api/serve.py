"""Serving the API with uvicorn: ``api serve`` runs it in the foreground; a worker with
``api.autostart`` runs it on a thread beside its queues.

The socket is bound (and listening) before the line naming the address is printed, so port 0
works and a client that read the line can connect at once. Loopback only, unless TLS files are
set or the caller accepts plain HTTP on the network (``--insecure``)."""
from __future__ import annotations

import ipaddress
import logging
import signal
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from studio.engine.api.app import create_app
from studio.engine.core import Studio
from studio.engine.errors import InvalidInput
from studio.engine.fsutil import atomic_write_text

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServePlan:
    """Where and how to serve: checked before any socket is opened."""

    host: str
    port: int
    tls_cert: str = ""
    tls_key: str = ""
    insecure: bool = False

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def plan_for(studio: Studio, *, host: str | None = None, port: int | None = None,
             insecure: bool = False) -> ServePlan:
    """The settings (api.*) with the caller's overrides, refused when unsafe or half-set."""
    api = studio.settings.api
    plan = ServePlan(host=host or api.host, port=api.port if port is None else port,
                     tls_cert=api.tls_cert.strip(), tls_key=api.tls_key.strip(), insecure=insecure)
    if not 0 <= plan.port <= 65535:
        raise InvalidInput(f"Port {plan.port} is not a port number (0 to 65535; 0 picks a free one).")
    if bool(plan.tls_cert) != bool(plan.tls_key):
        raise InvalidInput("Set both api.tls_cert and api.tls_key (PEM files), or neither.")
    for name in (plan.tls_cert, plan.tls_key):
        if name and not Path(name).expanduser().is_file():
            raise InvalidInput(f"The TLS file '{name}' does not exist.")
    if not is_loopback(plan.host) and not plan.tls_cert and not insecure:
        raise InvalidInput(f"Serving on {plan.host} would put the API on the network unencrypted; "
                           "set api.tls_cert and api.tls_key, or pass --insecure.")
    return plan


def insecure_warning(plan: ServePlan) -> str | None:
    """The one-line warning for plain HTTP off loopback, when that is what the plan does."""
    if is_loopback(plan.host) or plan.tls_cert:
        return None
    return f"warning: the API on {plan.host} is plain HTTP; tokens cross the network unencrypted"


def bind(plan: ServePlan) -> socket.socket:
    """A listening socket for the plan (port 0: a free port, read back with ``sock.getsockname``)."""
    family = socket.AF_INET6 if ":" in plan.host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((plan.host.strip("[]"), plan.port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise InvalidInput(f"Could not listen on {plan.host}:{plan.port}: {exc.strerror or exc}.") from None
    return sock


def address(plan: ServePlan, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    host = f"[{plan.host.strip('[]')}]" if ":" in plan.host.strip("[]") else plan.host
    return f"{plan.scheme}://{host}:{port}"


def make_server(studio: Studio, plan: ServePlan) -> uvicorn.Server:
    # Opened here, once: requests run on many threads, and two first uses at once would open the
    # database (and run its migrations) or the queues twice.
    _ = studio.db, studio.jobs, studio.queues
    config = uvicorn.Config(create_app(studio), log_level="warning", access_log=False,
                            ssl_certfile=plan.tls_cert or None, ssl_keyfile=plan.tls_key or None,
                            timeout_graceful_shutdown=5, server_header=False)
    return uvicorn.Server(config)


def serve(studio: Studio, plan: ServePlan, sock: socket.socket) -> None:
    """Blocks until Ctrl-C or SIGTERM, then returns. uvicorn catches both while it runs and sends
    them again to the handlers it found once it has stopped: quiet ones here, so the stop is a
    clean return rather than a KeyboardInterrupt or a death by SIGTERM."""
    before = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        make_server(studio, plan).run(sockets=[sock])
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _ignore(_signum: int, _frame: object) -> None:
    """A signal that arrives after the server stopped has nothing left to stop."""


URL_FILE = "api-url"  # in the run folder while a worker serves the API: where it answers


@dataclass(slots=True)
class Background:
    """The API on a thread of another process (the worker); ``stop`` ends it."""

    server: uvicorn.Server
    thread: threading.Thread
    url: str
    url_file: Path

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        self.url_file.unlink(missing_ok=True)


def serve_in_background(studio: Studio) -> Background | None:
    """The API as the settings say, on a daemon thread; None (and a log line) when it cannot."""
    try:
        plan = plan_for(studio)
        sock = bind(plan)
    except InvalidInput as exc:
        log.warning("The API was not started: %s", exc)
        return None
    server = make_server(studio, plan)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="api", daemon=True)
    thread.start()
    url = address(plan, sock)
    url_file = studio.paths.run_dir / URL_FILE
    atomic_write_text(url_file, url)
    log.info("API on %s", url)
    return Background(server, thread, url, url_file)
