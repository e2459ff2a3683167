"""``python -m bench``: nsshutdown at scale, measured against the API server's own ceiling.

See ``docs/performance.md`` for the method and the numbers. Nothing here is imported by the
``nsshutdown`` package; it drives the real CLI against a throwaway local API server.
"""
