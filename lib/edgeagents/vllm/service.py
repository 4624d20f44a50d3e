"""The guide's production service: FastAPI in front of vLLM, with a real request queue.

``POST /chat`` puts the request and a future on an ``asyncio.Queue``; worker tasks take
requests off the queue, send them to the backend chosen for the request's ``agent_type``, and
set the future's result, which the endpoint awaits (up to the request's ``timeout``). The
guide's version waited 0.1 s and returned a placeholder; here the caller gets the model's
answer. A full queue answers 503 at once (back-pressure) instead of piling up requests.

``GET /health`` asks every backend's ``/health``; ``GET /metrics`` gives the service's own
counters (processed, failed, queue depth, mean latency, per-backend use).

>>> service = ProductionService({"general_purpose": Backend(server.base_url, "course")})
>>> with ServiceRunner(service) as url:
...     httpx.post(f"{url}/chat", json={"message": "Hi"}).json()
"""

# no `from __future__ import annotations`: FastAPI must see the request model class itself, not a string

import asyncio
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from edgeagents.errors import InvalidRequestError, RuntimeUnavailableError
from edgeagents.serving import AppServer

AGENT_MAPPING = {"customer_service": "customer_service", "technical": "technical_support", "general": "general_purpose"}


@dataclass(frozen=True)
class Backend:
    """One model endpoint the service can send requests to."""

    base_url: str  # ".../v1"
    model: str
    max_tokens: int = 48
    system: str = ""


class ProductionService:
    def __init__(self, backends: dict[str, Backend], *, workers: int = 4, queue_size: int = 1000) -> None:
        if not backends:
            raise InvalidRequestError("The service needs at least one backend.")
        if workers < 1 or queue_size < 1:
            raise InvalidRequestError("workers and queue_size must be at least 1.")
        self.backends = dict(backends)
        self.n_workers = workers
        self.queue_size = queue_size
        self.metrics = {
            "requests_processed": 0, "requests_failed": 0, "requests_rejected": 0, "total_processing_time": 0.0,
            "agent_usage": {name: 0 for name in backends},
        }
        self.queue: asyncio.Queue | None = None
        self.app = self._build_app()

    # ------------------------------------------------------------------ workers
    def select_backend(self, agent_type: str) -> str:
        name = AGENT_MAPPING.get(agent_type, "general_purpose")
        if name in self.backends:
            return name
        return next(iter(self.backends))  # one backend serves every type on a small machine

    async def _worker(self, worker_id: int, clients: dict[str, Any]) -> None:
        assert self.queue is not None
        while True:
            item = await self.queue.get()
            request, future = item["request"], item["future"]
            name = self.select_backend(request.agent_type)
            backend = self.backends[name]
            t0 = time.perf_counter()
            try:
                if future.cancelled():
                    continue
                messages = ([{"role": "system", "content": backend.system}] if backend.system else []) + [
                    {"role": "user", "content": request.message}
                ]
                r = await clients[name].chat.completions.create(
                    model=backend.model, messages=messages, max_tokens=backend.max_tokens, temperature=0.0
                )
                seconds = time.perf_counter() - t0
                self.metrics["requests_processed"] += 1
                self.metrics["total_processing_time"] += seconds
                self.metrics["agent_usage"][name] += 1
                if not future.done():
                    future.set_result({
                        "response": r.choices[0].message.content or "", "agent_used": name,
                        "processing_time": seconds, "queue_wait": t0 - item["enqueued"], "worker_id": worker_id,
                        "completion_tokens": r.usage.completion_tokens if r.usage else 0,
                    })
            except Exception as exc:  # noqa: BLE001 - delivered to the caller as a 502
                self.metrics["requests_failed"] += 1
                if not future.done():
                    future.set_exception(exc)
            finally:
                self.queue.task_done()

    # ------------------------------------------------------------------ app
    def _build_app(self):  # noqa: ANN202 - a FastAPI app
        try:
            from fastapi import FastAPI, HTTPException
            from pydantic import BaseModel, Field
        except ImportError:
            raise RuntimeUnavailableError("FastAPI is not installed.", hint="pip install fastapi uvicorn") from None
        import httpx
        import openai

        service = self

        class AgentRequest(BaseModel):
            message: str = Field(min_length=1, max_length=20_000)
            agent_type: str = "general"
            priority: str = "normal"
            timeout: float = Field(default=60, gt=0, le=600)

        @asynccontextmanager
        async def lifespan(app):  # noqa: ANN001, ANN202
            service.queue = asyncio.Queue(maxsize=service.queue_size)
            clients = {name: openai.AsyncOpenAI(base_url=b.base_url, api_key="not-needed", timeout=300, max_retries=0)
                       for name, b in service.backends.items()}
            workers = [asyncio.create_task(service._worker(i, clients)) for i in range(service.n_workers)]
            try:
                yield
            finally:
                for w in workers:
                    w.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
                for c in clients.values():
                    await c.close()

        app = FastAPI(title="vLLM agent service (Edge Agents Lab)", lifespan=lifespan)

        @app.post("/chat")
        async def chat(request: AgentRequest) -> dict[str, Any]:
            assert service.queue is not None
            future = asyncio.get_running_loop().create_future()
            try:
                service.queue.put_nowait({"request": request, "future": future, "enqueued": time.perf_counter()})
            except asyncio.QueueFull:
                service.metrics["requests_rejected"] += 1
                raise HTTPException(status_code=503, detail="The queue is full; retry later.") from None
            try:
                return await asyncio.wait_for(future, timeout=request.timeout)
            except asyncio.TimeoutError:
                raise HTTPException(status_code=408, detail=f"No answer within {request.timeout} s.") from None
            except Exception as exc:  # noqa: BLE001
                raise HTTPException(status_code=502, detail=f"The model backend failed: {type(exc).__name__}: {exc}") from None

        @app.get("/health")
        async def health() -> dict[str, Any]:
            servers = {}
            async with httpx.AsyncClient(timeout=5) as client:
                for name, b in service.backends.items():
                    root = b.base_url.rsplit("/v1", 1)[0]
                    try:
                        r = await client.get(f"{root}/health")
                        servers[name] = "healthy" if r.status_code == 200 else f"HTTP {r.status_code}"
                    except httpx.HTTPError as exc:
                        servers[name] = f"unreachable ({type(exc).__name__})"
            ok = all(v == "healthy" for v in servers.values())
            return {"overall_status": "healthy" if ok else "degraded", "servers": servers,
                    "queue_depth": service.queue.qsize() if service.queue else 0}

        @app.get("/metrics")
        async def metrics() -> dict[str, Any]:
            m = service.metrics
            done = m["requests_processed"]
            return {**m, "agent_usage": dict(m["agent_usage"]),
                    "queue_depth": service.queue.qsize() if service.queue else 0,
                    "mean_processing_time": m["total_processing_time"] / done if done else 0.0}

        return app


class ServiceRunner(AppServer):
    """Run a service with uvicorn in a background thread on 127.0.0.1: ``with ServiceRunner(s) as url: ...``."""

    def __init__(self, service: ProductionService, port: int | None = None) -> None:
        super().__init__(service.app, port)
        self.service = service

    def __enter__(self) -> str:  # type: ignore[override]  # the URL: what every caller of this runner wants
        self.start()
        return self.url
