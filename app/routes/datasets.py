"""/api/datasets: upload a CSV file as a data set, and download MNIST on request."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from ..answer_schemas import COMMON, errors
from ..responses import json_bytes
from ..uploads import multipart_file

router = APIRouter(prefix="/api/datasets", tags=["datasets"], responses=errors(*COMMON))
CSV_BODY = {"requestBody": {"required": True, "description": "The CSV file (at most max_csv_bytes), or a "
                            "multipart form with it as a file field.",
                            "content": {"text/csv": {"schema": {"type": "string"}},
                                        "multipart/form-data": {"schema": {
                                            "type": "object", "properties": {"file": {"type": "string",
                                                                                      "format": "binary"}}}}}}}


@router.post("/csv", status_code=201, responses=errors(422), openapi_extra=CSV_BODY)
async def upload_csv(request: Request,
                     filename: Annotated[str, Query(max_length=200)] = "upload.csv",
                     target: Annotated[str | None, Query(max_length=200, description="Column to predict "
                                                         "(default: the last column).")] = None,
                     kind: Literal["classification", "regression"] | None = None,
                     test_fraction: Annotated[float, Query(ge=0.05, le=0.5)] = 0.2,
                     seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = 0):
    """The CSV file as the raw request body (header row, one sample per row; at most max_csv_bytes),
    or as the file field of a multipart form (``curl -F file=@data.csv``).

    Answers {"upload_id", "columns", "options", "dataset"}; use it with POST /api/sessions and
    {"dataset": {"name": "csv", "upload_id": ...}}. A bad file gets 422 naming its line and column."""
    raw = await request.body()          # at most max_csv_bytes (413 past it: app.body_limit)
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        raw, sent_name = multipart_file(raw, content_type)
        if sent_name and filename == "upload.csv":
            filename = sent_name[:200]
    options = {"target": target, "kind": kind, "test_fraction": test_fraction, "seed": seed}
    answer = await run_in_threadpool(request.app.state.uploads.add, raw, filename, options)
    return json_bytes(answer, status_code=201)


@router.post("/mnist/download", status_code=202)
async def start_mnist_download(request: Request):
    """Fetch the four MNIST files (checksummed) into the per-user cache, in the background."""
    job = request.app.state.mnist_download
    return job.start() or job.snapshot()


@router.get("/mnist/download")
async def mnist_download_progress(request: Request):
    """{"status": idle|running|done|error, "fraction", "message", "error", "available", ...}."""
    return request.app.state.mnist_download.snapshot()
