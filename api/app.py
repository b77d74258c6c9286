"""The search service: ``create_app(settings)`` assembles the FastAPI app, and nothing else.

The lifespan owns everything heavy (encoders, indexes, catalog sessions, worker threads, the job
runner) in one ``Services`` object, built off the event loop when the app starts and closed when
it stops; routes reach it through ``api.deps``. The web page is static files served from
``api/static`` (no external network needed). CORS stays off unless origins are configured.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from core.settings import Settings

from .routes import chapters, copies, jobs, ops, people, search, videos, voices
from .services import Services

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
_PAGE_POLICY = ("default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
                "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")


class _Observe:
    """ASGI middleware: latency per route template, and headers every answer should carry."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = [500]

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = list(message.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
                if scope["path"] == "/":
                    headers += [(b"content-security-policy", _PAGE_POLICY.encode()),
                                (b"x-frame-options", b"DENY")]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            services = getattr(scope.get("app").state, "services", None) if scope.get("app") else None
            if services is not None:
                template = getattr(route, "path", None) or ("/static" if scope["path"].startswith("/static")
                                                            else "unmatched")
                services.metrics.requests.labels(scope["method"], template, str(status[0])).observe(
                    time.perf_counter() - started)


def _swagger_assets() -> Path | None:
    """Swagger UI's files from the swagger-ui-bundle package, when installed (else a CDN serves them)."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    return Path(str(swagger_ui_path))


async def _watch(services: Services) -> None:
    """Pick up what other processes indexed or removed: one catalog row read every few seconds,
    a reconcile (off the event loop) only when it changed; searches go on meanwhile."""
    while True:
        await asyncio.sleep(services.settings.refresh_seconds)
        try:
            if await services.run(services.library.refresh_if_changed):
                services.answers.invalidate()
        except Exception:  # a database hiccup must not end the watch; the next round tries again
            log.warning("could not check the catalog for changes", exc_info=True)


def create_app(settings: Settings | None = None, *, encoders=None, asr=None, warm: bool = True) -> FastAPI:
    """The app over ``settings``' data dir. ``encoders``/``asr`` let a caller share loaded models."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        services = await run_in_threadpool(Services, settings, encoders=encoders, asr=asr)
        await run_in_threadpool(services.jobs.resume)  # jobs a stopped or crashed run left unfinished
        if warm:
            await services.run(services.warm_up)
        app.state.services = services
        watcher = asyncio.create_task(_watch(services)) if settings.refresh_seconds > 0 else None
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            await run_in_threadpool(services.close)

    docs_assets = _swagger_assets()
    app = FastAPI(title="vidsearch", version="0.1.0", lifespan=lifespan,
                  docs_url=None if docs_assets else "/docs",
                  description="Search video archives by what is seen and said; land on the right second.")
    if docs_assets:  # /docs from files we serve: it works without any external network
        from fastapi.openapi.docs import get_swagger_ui_html

        app.mount("/docs-assets", StaticFiles(directory=docs_assets), name="docs-assets")

        @app.get("/docs", include_in_schema=False)
        async def docs():
            return get_swagger_ui_html(openapi_url=app.openapi_url, title="vidsearch API",
                                       swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                       swagger_css_url="/docs-assets/swagger-ui.css",
                                       swagger_favicon_url="/docs-assets/favicon-32x32.png")
    for module in (search, videos, chapters, copies, people, voices, jobs, ops):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
                           allow_methods=["GET", "POST", "DELETE"], allow_headers=["X-API-Key", "Content-Type"])
    app.add_middleware(_Observe)
    return app
