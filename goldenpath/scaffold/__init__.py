"""Scaffold layer: golden-path templates rendered into new service repositories.

Adapters at the edge of the flow (cookiecutter in :mod:`.cookie`, git in :mod:`.vcs`),
plus what the use cases in :mod:`goldenpath.services.scaffold` put together: the template
catalogue and its declared inputs (:mod:`.catalog`), the context a template receives
(:mod:`.context`), the record kept in each repository (:mod:`.record`), the round-trip
edit of a team file (:mod:`.teamfile`) and the 3-way template update (:mod:`.update`).
"""

from goldenpath.scaffold.catalog import TemplateInfo, load_template
from goldenpath.scaffold.record import RECORD_PATH, Record

__all__ = ["RECORD_PATH", "Record", "TemplateInfo", "load_template"]
