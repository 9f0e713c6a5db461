"""Following one prompt: its websocket frames until it ends, a dropped socket reopened, cancel.

Frames sent while the socket is down are lost, so after reopening it the follower asks /queue
and /history where the prompt is; a prompt that ended during the outage is still collected.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection

from studio.engine.comfyui.errors import ComfyInterrupted, ComfyRejected, ComfyUnavailable
from studio.engine.comfyui.messages import ProgressEvent, PromptTracker

if TYPE_CHECKING:
    from studio.engine.comfyui.client import ComfyClient

_TICK_S = 0.2  # how often cancel() and the deadline are looked at while frames are quiet
_WATCH_S = 10.0  # a silent prompt is checked for in /queue and /history this often
_HISTORY_WAIT_S = 5.0


class Follower:
    """Reads one prompt's frames until it ends, reopening a dropped socket; acts on cancel()."""

    def __init__(self, client: ComfyClient, tracker: PromptTracker, socket: ClientConnection, *,
                 on_event: Callable[[ProgressEvent], None] | None,
                 cancel: Callable[[], bool] | None, deadline: float | None) -> None:
        self.client, self.tracker, self.socket = client, tracker, socket
        self.on_event, self.cancel, self.deadline = on_event, cancel, deadline
        self.canceling = False
        self.entry: dict[str, Any] | None = None
        self.last_frame = time.monotonic()

    def wait(self) -> dict[str, Any]:
        """The prompt's history entry once it has ended."""
        try:
            while not self.tracker.done:
                self._check_deadline()
                self._check_cancel()
                self._receive()
        finally:
            self.socket.close()
        return self.entry or self._history_when_written()

    def _receive(self) -> None:
        try:
            frame = self.socket.recv(timeout=self._tick())
        except TimeoutError:
            if time.monotonic() - self.last_frame > _WATCH_S:
                self.last_frame = time.monotonic()
                self._ensure_known()
            return
        except (OSError, WebSocketException):
            self._reconnect()
            return
        self.last_frame = time.monotonic()
        event = self.tracker.handle(frame)
        if event is not None and self.on_event is not None:
            self.on_event(event)

    def _tick(self) -> float:
        left = self.deadline - time.monotonic() if self.deadline is not None else _TICK_S
        return max(0.0, min(_TICK_S, left))

    def _check_deadline(self) -> None:
        if self.deadline is None or time.monotonic() < self.deadline or self._ended():
            return
        try:
            self._stop_prompt()  # do not leave the GPU busy with a prompt nobody waits for
        except (ComfyUnavailable, ComfyRejected):
            pass
        raise ComfyUnavailable(f"ComfyUI at {self.client.base_url} did not finish prompt "
                               f"{self.tracker.prompt_id} in time.")

    def _check_cancel(self) -> None:
        if self.canceling or self.cancel is None or not self.cancel():
            return
        self.canceling = True
        if not self._stop_prompt() and not self._ended():
            raise ComfyInterrupted("The prompt was removed from ComfyUI's queue before it ran.")

    def _stop_prompt(self) -> bool:
        """Deletes the prompt while queued, interrupts it while running; False when it is gone."""
        pid, queue = self.tracker.prompt_id, self.client.queue()
        if pid in queue.pending:
            self.client.delete_queued([pid])
            queue = self.client.queue()  # it may have started meanwhile
        if pid in queue.running:
            self.client.interrupt(pid)
            return True
        return pid in queue.pending

    def _reconnect(self) -> None:
        self.socket.close()
        for delay in self.client.reconnect_delays:
            self._emit_reconnecting()
            if self._ended():
                return
            self._check_deadline()
            self._check_cancel()
            left = self.deadline - time.monotonic() if self.deadline is not None else delay
            time.sleep(max(0.0, min(delay, left)))
            try:
                self.socket = self.client.open_socket()
            except ComfyUnavailable:
                continue
            self._ensure_known()  # frames sent while the socket was down are lost
            return
        raise ComfyUnavailable(f"Lost the websocket to ComfyUI at {self.client.base_url} and could "
                               f"not reopen it ({len(self.client.reconnect_delays)} tries).")

    def _ensure_known(self) -> None:
        pid, queue = self.tracker.prompt_id, self.client.queue()
        if pid in queue.running or pid in queue.pending or self._ended():
            return
        raise ComfyUnavailable(f"ComfyUI at {self.client.base_url} no longer knows prompt {pid} "
                               f"(was it restarted?).")

    def _ended(self) -> bool:
        """True, with the entry kept, when /history says the prompt is over."""
        try:
            self.entry = self.client.history(self.tracker.prompt_id)
        except ComfyUnavailable:
            return False  # still down: keep trying to reconnect
        self.tracker.done = self.tracker.done or self.entry is not None
        return self.entry is not None

    def _history_when_written(self) -> dict[str, Any]:
        deadline, pause = time.monotonic() + _HISTORY_WAIT_S, 0.02
        while True:
            entry = self.client.history(self.tracker.prompt_id)
            if entry is not None:
                return entry
            if time.monotonic() > deadline:
                raise ComfyUnavailable(f"ComfyUI at {self.client.base_url} finished prompt "
                                       f"{self.tracker.prompt_id} but has no history for it.")
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

    def _emit_reconnecting(self) -> None:
        if self.on_event is not None:
            self.on_event(ProgressEvent(self.tracker.prompt_id, "reconnecting",
                                        fraction=self.tracker.fraction()))
