"""``goldenpath serve``: the self-service API under uvicorn, on embedded defaults.

The API lives in the top-level ``api`` package, above the core package; it is loaded
here by name (``api.main:serve_app``) so nothing in ``goldenpath`` imports it (an
import-linter contract says so).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from goldenpath.cli.app import DEFAULT_PLATFORM, PlatformOption, app, out, reported_errors
from goldenpath.services.health import prepare_state
from goldenpath.settings import get_settings

APP = "api.main:serve_app"


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8080,
    platform: PlatformOption = DEFAULT_PLATFORM,
) -> None:
    """Run the self-service API (docs at /docs). Embedded mode (no
    GOLDENPATH_DATABASE_URL, no GOLDENPATH_ADMIN_TOKEN) prints a bootstrap admin token on
    its first start."""
    with reported_errors():
        os.environ["GOLDENPATH_PLATFORM_DIR"] = str(platform)
        get_settings.cache_clear()
        # a bad GOLDENPATH_* variable or an unusable state directory is an error here,
        # not a traceback when the API starts
        prepare_state(get_settings())
    out.print(f"goldenpath API on http://{host}:{port}/v1 (interactive docs: "
              f"http://{host}:{port}/docs); authenticate with 'Authorization: Bearer <token>'",
              soft_wrap=True)
    import uvicorn  # here: other commands need not pay for importing it

    uvicorn.run(APP, factory=True, host=host, port=port, log_config=None,
                timeout_graceful_shutdown=10)
