"""Run an ASGI app (a FastAPI service) with uvicorn on 127.0.0.1, in a background thread.

>>> with AppServer(app) as server:
...     httpx.get(f"{server.url}/health").json()

Loopback only: these services are for the learner's own machine; putting one on a network is a choice to
make on purpose (with authentication in front), not a default.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from edgeagents.errors import RuntimeUnavailableError
from edgeagents.runtimes.process import check_port, free_port

START_TIMEOUT_S = 30.0


class AppServer:
    """``app`` served by uvicorn on ``127.0.0.1:port`` (a free port by default) until :meth:`close`."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.app = app
        self.port = check_port(port) if port else free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> AppServer:
        """Serve until :meth:`close` (already serving: nothing to do)."""
        if self._thread is not None and self._thread.is_alive():
            return self
        try:
            import uvicorn
        except ImportError:
            raise RuntimeUnavailableError("uvicorn is not installed.", hint="pip install -e '.[serve]'") from None
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name=f"uvicorn:{self.port}")
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                self.close()
                raise RuntimeUnavailableError(f"The service did not start on {self.url}.",
                                              hint="Another program may hold the port; pass port=None for a free one.")
            time.sleep(0.05)
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
        self._thread = None

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
