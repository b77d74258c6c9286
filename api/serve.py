"""``vidsearch serve``: run the search service (API + web page) with uvicorn.

Refuses to listen beyond loopback without an API key (see ``api.security``). One process: the
models and indexes are loaded once and shared by the worker threads, which is what a CPU box
wants; put a reverse proxy with TLS in front when exposing it.
"""
from __future__ import annotations

import sys


def one_thread_per_request(settings) -> None:
    """A server runs many small requests at once: parallelism across requests, not inside one.

    With several request threads, torch's and FAISS's own thread pools fight over the same
    cores: a single-query search got several times slower with a pool per request on 2 loaded
    cores. An explicit ``VIDSEARCH_TORCH_THREADS`` still wins for torch. Text towers on ONNX
    Runtime keep one thread per core: they run on the single encoding thread, and their idle
    threads sleep instead of spinning.
    """
    import faiss
    import torch

    faiss.omp_set_num_threads(1)
    if not settings.torch_threads:
        torch.set_num_threads(1)


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help="run the search API and web page")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (non-loopback needs VIDSEARCH_API_KEY)")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)


def cmd_serve(app, args) -> int:
    """``app`` is ``api.cli.App``; only its settings are used (the server builds its own objects)."""
    import uvicorn

    from .app import create_app
    from .security import check_exposure

    try:
        check_exposure(args.host, app.settings)
    except PermissionError as exc:
        print(f"vidsearch: error: {exc}", file=sys.stderr)
        return 2
    one_thread_per_request(app.settings)
    print(f"vidsearch: serving {app.settings.data_dir} on http://{args.host}:{args.port}/ "
          f"(API docs at /docs)", file=sys.stderr)
    uvicorn.run(create_app(app.settings), host=args.host, port=args.port, log_level="warning",
                access_log=False, proxy_headers=False)
    return 0


class ServerThread:
    """A real uvicorn server on a free loopback port, in a thread (tests, benchmarks, notebooks).

    ``with ServerThread(app) as url:`` waits until the app has started (lifespan done) and stops it
    on exit.
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        import socket

        import uvicorn

        self._socket = socket.socket()
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> str:
        import threading
        import time

        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 300
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start (see the log above)")
            time.sleep(0.05)
        return self.url

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(60)
        self._socket.close()
