"""Work a request hands off instead of waiting for it: one thread, a bounded queue.

For what may be slow or hang when a service is away (asking the broker to wake a worker) and
may be lost without harm. The caller never waits: `submit` queues the call, or drops it with
a log line when the queue is full; calls run one at a time, in the order they were queued,
and an error in one is logged and never stops the next.
"""

import logging
import queue
import threading

logger = logging.getLogger("tasklane.background")


class Lane:
    def __init__(self, name: str, size: int):
        self.name = name
        self.size = size
        self._queue: queue.Queue = queue.Queue(size)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, function, *args) -> bool:
        """Queue `function(*args)`; False (and a log line) if the queue is full."""
        self._start()
        try:
            self._queue.put_nowait((function, args))
        except queue.Full:
            logger.warning(
                "%s: %d calls are already waiting; %s dropped",
                self.name,
                self.size,
                getattr(function, "__name__", function),
            )
            return False
        return True

    def join(self) -> None:
        """Until everything queued so far has run (tests)."""
        self._queue.join()

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            function, args = self._queue.get()
            try:
                function(*args)
            except Exception:
                logger.exception("%s: %s failed", self.name, getattr(function, "__name__", ""))
            finally:
                self._queue.task_done()
