"""goldenpath's Pulumi program, importable so tests can build it under Pulumi's mocks.

``stacks/__main__.py`` reads the stack configuration (``config``) and calls
``program.build``, which plans one cluster's Bundle objects into components (``plan``),
and declares each object with the pulumi-kubernetes class for its kind (``kinds``).
"""
