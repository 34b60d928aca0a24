"""``GET /templates``: the golden paths a team may scaffold from, with their parameters."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PrincipalDep, SettingsDep, SpecDep
from api.errors import RESPONSES
from api.schemas import TemplateOut
from goldenpath.services import catalog

router = APIRouter(prefix="/templates", tags=["templates"], responses=RESPONSES)


@router.get("", operation_id="listTemplates", response_model=list[TemplateOut],
            summary="Templates and their parameters as JSON Schema")
def list_templates(principal: PrincipalDep, settings: SettingsDep,
                   spec: SpecDep) -> list[TemplateOut]:
    return [TemplateOut(name=info.name, kind=info.kind, version=info.declared_version,
                        parameters=schema)
            for info, schema in catalog.templates(spec, settings.templates_root)]
