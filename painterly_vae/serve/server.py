"""Starting the page: check what can be checked before listening, then uvicorn until Ctrl-C.

A port in use, a run whose paintings are not on disk, or no run at all is one line and exit
code 2 (`UsageError`), not a traceback from inside the server. The page binds 127.0.0.1
unless `--host` says otherwise; then it warns, once, that the page has no login.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from painterly_vae.errors import UsageError
from painterly_vae.inference.run_data import open_run_data
from painterly_vae.inference.trained_run import TrainedRun
from painterly_vae.serve.collection import open_collection
from painterly_vae.serve.service import Service

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def check_port(host: str, port: int) -> None:
    """A one-line UsageError when the port cannot be listened on (in use, or not ours to take)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            raise UsageError(f"cannot listen on {host}:{port} ({error.strerror or error}): "
                             f"give another --port, or stop what uses it") from None


def build_service(run: TrainedRun, data_path: Path | None = None, progress: bool = True) -> Service:
    """The run with its collection (encoded once and cached beside the run)."""
    data = open_run_data(run, data_path)
    return Service(run, open_collection(run, data, progress=progress))


def serve(run: TrainedRun, data_path: Path | None, host: str, port: int, progress: bool = True) -> None:
    import uvicorn

    from painterly_vae.serve.app import create_app

    if port:
        check_port(host, port)
    service = build_service(run, data_path, progress)
    if host not in LOCAL_HOSTS:
        print(f"painterly-vae serve: warning: listening on {host}, not 127.0.0.1: anyone who can reach this "
              f"machine can use the page (it has no login)", file=sys.stderr)
    shown = f"[{host}]" if ":" in host else host
    print(f"Serving run {run.run_dir} ({len(service.collection)} training paintings) at http://{shown}:{port}/ "
          f"(Ctrl-C stops it)", flush=True)
    uvicorn.run(create_app(service), host=host, port=port, log_level="warning")
