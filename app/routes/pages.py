"""The browser page, plotly.js from the installed package, the favicon, and offline /docs."""
from __future__ import annotations

from pathlib import Path

import fastapi_offline
import plotly
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from ..clients import ensure_client

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
SWAGGER = Path(fastapi_offline.__file__).parent / "static"    # Swagger UI 5 assets, shipped in the wheel
PLACEHOLDER = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Backprop Lab</title></head>
<body><h1>Backprop Lab</h1><p>The server is running. The page is not built yet:
see the <a href="/docs">API docs</a>.</p></body></html>"""
FAVICON = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6"
fill="#1f3b57"/><circle cx="9" cy="10" r="3" fill="#8fd3ff"/><circle cx="9" cy="22" r="3" fill="#8fd3ff"/>
<circle cx="23" cy="16" r="3" fill="#ffc857"/><path d="M11 10 21 16M11 22 21 16" stroke="#fff" stroke-width="1.5"/>
</svg>"""

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(TEMPLATES)) if TEMPLATES.is_dir() else None


@router.get("/", response_class=HTMLResponse)
async def index(request: Request):
    """The page; it gives the browser its client cookie (see ``clients``)."""
    if templates is not None and (TEMPLATES / "index.html").is_file():
        page = templates.TemplateResponse(request, "index.html", {"title": "Backprop Lab"})
    else:
        page = HTMLResponse(PLACEHOLDER)
    ensure_client(request, page)
    return page


@router.get("/vendor/plotly.min.js")
async def plotly_js():
    return FileResponse(PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})


@router.get("/favicon.ico")
async def favicon():
    if (STATIC / "favicon.svg").is_file():
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")
    return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@router.get("/vendor/swagger/{name}")
async def swagger_asset(name: str):
    allowed = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
               "favicon.png": "image/png", "redoc.standalone.js": "text/javascript"}
    if name not in allowed:
        return Response(status_code=404)
    return FileResponse(SWAGGER / name, media_type=allowed[name], headers={"Cache-Control": "max-age=86400"})


@router.get("/docs")
async def docs(request: Request):
    return get_swagger_ui_html(openapi_url=request.app.openapi_url, title="Backprop Lab API",
                               oauth2_redirect_url="/docs/oauth2-redirect",
                               swagger_js_url="/vendor/swagger/swagger-ui-bundle.js",
                               swagger_css_url="/vendor/swagger/swagger-ui.css",
                               swagger_favicon_url="/vendor/swagger/favicon.png")


@router.get("/docs/oauth2-redirect")
async def docs_redirect():
    return get_swagger_ui_oauth2_redirect_html()
