"""The FastAPI application factory: routers, error handlers, and the clients the app
opens at start-up and closes at shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import Depends, FastAPI

from app import health, ratelimit
from app.catalogue import routes as catalogue_routes
from app.compression import Compression
from app.db import make_engine
from app.deps import AppState
from app.errors import ERROR_RESPONSES, install_error_handlers
from app.institutions import routes as institution_routes
from app.jobs import Scheduler
from app.keys import routes as key_routes
from app.mirror import routes as mirror_routes
from app.oai import routes as oai_routes
from app.objects import routes as object_routes
from app.objects.cache import BlobCache
from app.objects.store import ObjectStore
from app.observability import routes as observability_routes
from app.observability.requests import RequestIdMiddleware
from app.publication import routes as publication_routes
from app.search import routes as search_routes
from app.search import suggest
from app.search.gateway import SearchIndex
from app.security import EdgeMiddleware, single_valued_query
from app.settings import Settings, get_settings
from app.sources import routes as source_routes
from app.stats import routes as stats_routes
from app.web import api_docs, discovery
from app.web import course as course_page
from app.web import institutions as institution_pages
from app.web import publication as publication_pages
from app.web import quality as quality_page
from app.web import routes as web_routes
from app.web import sources as source_pages
from app.web import stats as stats_page
from app.web.errors import error_page


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Every client opened here is closed at shutdown, in the reverse order, even when
        # a later one fails to open.
        async with AsyncExitStack() as opened:
            engine = make_engine(settings)
            opened.callback(engine.dispose)
            search = SearchIndex.from_settings(settings)
            opened.callback(search.close)
            # One S3 client for the process, shared by every request.
            objects = ObjectStore(settings, connect_timeout=2)
            opened.callback(objects.close)
            app.state.coursefed = AppState(
                settings=settings,
                engine=engine,
                search=search,
                objects=objects,
                blobs=BlobCache(settings.objects_blob_cache_seconds),
            )
            limiter = ratelimit.install(app, settings)
            opened.push_async_callback(limiter.aclose)
            if settings.scheduler:
                scheduler = Scheduler(engine, settings)
                scheduler.start()
                opened.callback(scheduler.stop)
            # Serving starts: the lexicon of suggestions is made in the background before
            # the first search needs it (at a million courses it takes a while).
            suggest.warm(search, settings.meili_index)
            yield

    app = FastAPI(
        title="coursefed",
        summary="A federated open repository of course resources",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(single_valued_query)],
        responses=ERROR_RESPONSES,
        # Our own /docs and /redoc (app.web.api_docs): FastAPI's load their code from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app, pages=error_page)
    # Outermost last: the edge adds its headers to the answer as compressed.
    app.add_middleware(Compression)
    app.add_middleware(EdgeMiddleware, settings=settings)
    # Outermost of ours: a refusal at the edge carries its request id too.
    app.add_middleware(RequestIdMiddleware)
    # Downloads and searches are most of the traffic: their routes are matched first.
    app.include_router(object_routes.router)
    app.include_router(health.router)
    app.include_router(observability_routes.router)
    app.include_router(search_routes.router)
    app.include_router(catalogue_routes.router)
    app.include_router(institution_routes.router)
    app.include_router(source_routes.router)
    app.include_router(mirror_routes.router)
    app.include_router(publication_routes.router)
    app.include_router(publication_routes.feeds)
    app.include_router(stats_routes.router)
    app.include_router(oai_routes.router)
    app.include_router(key_routes.router)
    app.include_router(web_routes.router)
    app.include_router(course_page.router)
    app.include_router(institution_pages.router)
    app.include_router(publication_pages.router)
    app.include_router(quality_page.router)
    app.include_router(source_pages.router)
    app.include_router(stats_page.router)
    app.include_router(discovery.router)
    app.include_router(api_docs.router)
    api_docs.mount_assets(app)
    app.mount("/static", web_routes.static, name="static")
    return app
