"""moto's server, answering one request at a time.

moto's backends are not thread-safe: a TransactWriteItems that fails restores a snapshot of the
table taken before it started, undoing writes other requests made meanwhile, and two
conditional writes can both pass their check. The services moto stands in for are
linearisable, so the tests serialise requests to get the semantics they are testing. The HTTP
server itself stays threaded, so slow clients do not block each other's connections.

Usage: python server.py -H 127.0.0.1 -p PORT  (the arguments of `python -m moto.server`)
"""

import threading

from moto import server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_one_at_a_time = threading.Lock()
_dispatch = DomainDispatcherApplication.__call__


def _serialised(self, environ, start_response):
    with _one_at_a_time:
        result = _dispatch(self, environ, start_response)
        try:
            return [b"".join(result)]
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()


DomainDispatcherApplication.__call__ = _serialised

if __name__ == "__main__":
    server.main()
