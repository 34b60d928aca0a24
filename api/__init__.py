"""The self-service HTTP API (FastAPI): a thin front door over ``goldenpath.services``.

``api.main.create_app`` builds the application; ``goldenpath serve`` runs it under uvicorn.
Nothing here validates, renders, checks or writes anything the services layer does not:
routes authenticate, call a use case, and shape its answer.
"""
