"""A WSGI app served on a free 127.0.0.1 port in a thread, for the length of a `with` block."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from werkzeug.serving import make_server


@contextmanager
def served(app: Callable) -> Iterator[str]:
    """Serve a WSGI app on a free 127.0.0.1 port (threaded) for the block; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
