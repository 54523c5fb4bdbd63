"""The HTTP service: ``carbonfoot serve``, the face partner apps, shops and districts call.

A face over the library, like the CLI, holding no rule of its own: each route makes one
call on the engine or the ledger and renders what it returns as JSON (money as decimal
strings, times ISO 8601), errors as RFC 9457 problems. Needs the ``serve`` extra
(``pip install 'carbonfoot[serve]'``: FastAPI and uvicorn).

* :mod:`~carbonfoot.service.app`: :func:`create_app` (the ASGI application for a
  :class:`ServiceSettings`), :func:`app_from_env` (for ``uvicorn --factory`` and worker
  processes), the routes, the middleware (request ids, body limit, metrics, JSON logs);
* :mod:`~carbonfoot.service.settings`: :class:`ServiceSettings`, from options or
  ``CARBONFOOT_*`` variables;
* :mod:`~carbonfoot.service.models`: the typed request and response bodies (the OpenAPI
  document);
* :mod:`~carbonfoot.service.problems`: problem types and how library errors map to them;
* :mod:`~carbonfoot.service.pool`: ledgers (one connection each) lent to requests;
* :mod:`~carbonfoot.service.metrics`: Prometheus text.

API keys and their scopes live in the ledger database (:mod:`carbonfoot.ledger.keys`).
"""

from carbonfoot.service.app import app_from_env, create_app
from carbonfoot.service.settings import ServiceSettings

__all__ = ["ServiceSettings", "app_from_env", "create_app"]
