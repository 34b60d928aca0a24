"""The services tests use the gitops tests' real bare remotes."""

from tests.gitops.conftest import remote

__all__ = ["remote"]
