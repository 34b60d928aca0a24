"""One router per resource, gathered by :func:`api.main.create_app`."""
