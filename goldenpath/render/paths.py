"""Where each rendered object lives in the platform control repository.

The GitOps writer (:mod:`goldenpath.gitops.layout`) puts every object at
:func:`path_for`, the Argo CD renderer points its Applications at these directories, and
the ``unique-names`` guardrail checks that no two objects share a path; all three use
this module, so they cannot disagree::

    clusters/<cluster>/bootstrap.yaml                  the root Application
    clusters/<cluster>/projects/<kind>-<name>.yaml     AppProjects
    clusters/<cluster>/applications/<kind>-<name>.yaml tenancy and services Applications
    clusters/<cluster>/platform/<kind>-<name>.yaml     other platform-owned objects
    clusters/<cluster>/teams/<team>/<kind>-<name>.yaml a team's other cluster-wide objects
    tenants/<team>/<env>/<kind>-<name>.yaml            a team's objects in one environment
    tenants/<team>/_apps/<kind>-<name>.yaml            its service Applications

Collision-free by construction. Cluster, team and environment names are DNS labels
(``[a-z0-9-]``) and each sits in a directory of its own type, never joined to another
name. The directories the layout names itself in a name's place (``_apps``) contain a
character no label has, so no environment can be called like them. Every object file is
``<kind>-<name>.yaml``: a kind has no ``-``, so the file names of two objects differ
whenever their kinds or names do, and none equals a file the layout writes itself
(``kustomization.yaml``, ``bootstrap.yaml``: no ``-``), whatever a team is called.
"""

from __future__ import annotations

from goldenpath.render.bundle import Resource

#: The root Application's name; its file is the cluster's ``bootstrap.yaml``.
ROOT_APP = "root"
BOOTSTRAP = "bootstrap.yaml"
#: A team's service Applications, apart from its environments' directories. The ``_``
#: keeps an environment named ``apps`` from sharing (and syncing) them.
APPS_DIR = "_apps"
_ARGO_HOME = {"AppProject": "projects", "Application": "applications"}
_ARGO_API = "argoproj.io/"


def cluster_dir(cluster: str) -> str:
    return f"clusters/{cluster}"


def tenant_dir(team: str, env: str) -> str:
    return f"tenants/{team}/{env}"


def apps_dir(team: str) -> str:
    return f"tenants/{team}/{APPS_DIR}"


def object_file(kind: str, name: str) -> str:
    return f"{kind.lower()}-{name}.yaml"


def path_for(resource: Resource) -> str:
    """The repository path of ``resource``, from its kind, name and coordinates."""
    c, kind, file = resource.coords, resource.kind, object_file(resource.kind, resource.name)
    argo = resource.api_version.startswith(_ARGO_API)
    if argo and kind == "Application" and c.service is not None and c.team is not None:
        return f"{apps_dir(c.team)}/{file}"
    if argo and kind == "Application" and c.team is None and resource.name == ROOT_APP:
        return f"{cluster_dir(c.cluster)}/{BOOTSTRAP}"
    if argo and kind in _ARGO_HOME:
        return f"{cluster_dir(c.cluster)}/{_ARGO_HOME[kind]}/{file}"
    if c.team is None:
        return f"{cluster_dir(c.cluster)}/platform/{file}"
    if c.environment is None:
        return f"{cluster_dir(c.cluster)}/teams/{c.team}/{file}"
    return f"{tenant_dir(c.team, c.environment)}/{file}"
