"""The HTTP face of `Service`: one page, its static files, and a few JSON routes.

    GET  /                       the page (static/index.html; its script and style beside it)
    GET  /api/run                the run: painters, training, latest evaluate report
    GET  /api/collection         every training painting's point on the map
    GET  /api/paintings/{id}     one training painting's details (title, year, source, licence)
    GET  /api/thumbnails/{id}    its thumbnail (PNG)
    GET  /api/plots/{name}       a plot of the latest report, by the name the report lists
    POST /api/attribute          a dropped file (multipart, field "painting"): the answer
    POST /api/attribute/{id}     a training painting as the query

No route reads a path the client names: paintings are served by their number in the run's
own collection, plots only by a name the report lists. Every refusal is JSON with a
sentence (`{"error": ...}`) and a 4xx status; the server keeps serving.
"""

from __future__ import annotations

import importlib.resources
from typing import Any

from fastapi import FastAPI, File, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from painterly_vae.serve.service import MAX_UPLOAD_BYTES, Refused, Service

STATIC = importlib.resources.files("painterly_vae.serve") / "static"
CHUNK = 1024 * 1024


def create_app(service: Service) -> FastAPI:
    app = FastAPI(title="painterly-vae", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(Refused)
    def refused(_: Request, error: Refused) -> JSONResponse:
        return JSONResponse({"error": error.sentence}, status_code=error.status)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    @app.get("/api/run")
    def run() -> dict[str, Any]:
        return service.about_run()

    @app.get("/api/collection")
    def collection() -> dict[str, Any]:
        return {"artists": list(service.run.artists), "points": service.map_points()}

    @app.get("/api/paintings/{index}")
    def painting(index: int) -> dict[str, Any]:
        return service.painting(index)

    @app.get("/api/thumbnails/{index}")
    def thumbnail(index: int) -> Response:
        return Response(service.thumbnail(index), media_type="image/png",
                        headers={"Cache-Control": "public, max-age=3600"})

    @app.get("/api/plots/{name}")
    def plot(name: str) -> FileResponse:
        return FileResponse(str(service.plot(name)), media_type="image/png")

    @app.post("/api/attribute")
    async def attribute(painting: UploadFile = File(...)) -> dict[str, Any]:
        content = bytearray()
        while chunk := await painting.read(CHUNK):
            content += chunk
            if len(content) > MAX_UPLOAD_BYTES:
                raise Refused(413, f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
        return await run_in_threadpool(service.attribute_upload, painting.filename or "upload", bytes(content))

    @app.post("/api/attribute/{index}")
    def attribute_collection(index: int) -> dict[str, Any]:
        return service.attribute_collection(index)

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app
