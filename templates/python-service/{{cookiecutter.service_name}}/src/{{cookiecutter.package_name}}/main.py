"""Process entry point: metrics on their own port, the application on the traffic port."""

from __future__ import annotations

import os

import uvicorn
from prometheus_client import start_http_server

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.metrics import METRICS_PORT


def main() -> None:
    # Metrics stay off the traffic port, so an Ingress never exposes them.
    start_http_server(int(os.environ.get("METRICS_PORT", METRICS_PORT)))
    uvicorn.run(create_app(), host="0.0.0.0", port=int(os.environ.get("PORT", "{{ cookiecutter.port }}")),
                access_log=False, proxy_headers=True)
