"""The tradestore dashboard: a Starlette app over the four stores (``pip install tradestore[web]``).

``tradestore serve --data-dir DIR`` serves it read-only beside a running bot;
``tradestore run --web PORT`` serves it from the scheduler's own process, with
actions; a bot mounts :func:`create_app` in its own ASGI server.
"""

from tradestore.web._actions import new_token
from tradestore.web._app import TOKEN_HEADER, create_app
from tradestore.web._server import serve_app

__all__ = ["TOKEN_HEADER", "create_app", "new_token", "serve_app"]
