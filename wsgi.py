"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``.

Once the app is built, the objects it is made of (modules, SQLAlchemy's mappers, the template
environment: some hundred and sixty thousand) are frozen out of Python's cyclic garbage collector
(``gc.freeze``). They live as long as the process, yet the collector's full pass walked them all
every few hundred requests: a pause of about a tenth of a second for that one request.
Collections still run; they look only at what requests make."""

import gc

from app import create_app
from app.core.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # a missing or wrong setting: say what to do, without a traceback
    raise SystemExit(f"Hometime: {exc}") from None
gc.collect()  # nothing left over from building it is frozen with it
gc.freeze()
