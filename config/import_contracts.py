"""An import-linter contract of Registre's own (`make lint`): no private name (`_helper`) is imported from
another app. A leading underscore says "this may change without notice": an app that needs the thing
asks its owner to make it public (as `documents.vector_query.transaction_settings` was)."""

import re

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck

# `from apps.documents.vector_query import _x, y` or `import apps.documents._x`: the names imported.
_FROM_IMPORT = re.compile(r"^\s*from\s+\S+\s+import\s+\(?(?P<names>[^)#]*)")
_PLAIN_IMPORT = re.compile(r"^\s*import\s+(?P<names>[^#]*)")


class PrivateNamesContract(Contract):
    """Checks each import between two different containers (apps) for a private name.

    Configuration: `containers`, the packages whose boundaries are checked (e.g. apps.documents).
    Limitation: it reads import statements; `module._name` written after a plain module import is
    not seen (the code review catches those)."""

    type_name = "private_names"
    containers = fields.ListField(subfield=fields.ModuleField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        names = [container.name for container in self.containers]
        violations = []
        for importer in sorted(graph.modules):
            owner = _container(importer, names)
            if owner is None:
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                other = _container(imported, names)
                if other is None or other == owner:
                    continue
                for detail in graph.get_import_details(importer=importer, imported=imported):
                    private = _private_names(detail["line_contents"])
                    if private:
                        violations.append((importer, detail["line_number"], imported, private))
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, line, imported, private in check.metadata["violations"]:
            output.print_error(f"{importer}:{line} imports {', '.join(private)} from {imported}, private to its app.")
            output.new_line()


def _container(module: str, containers: list[str]) -> str | None:
    return next((name for name in containers if module == name or module.startswith(f"{name}.")), None)


def _private_names(line: str) -> list[str]:
    match = _FROM_IMPORT.match(line) or _PLAIN_IMPORT.match(line)
    if match is None:
        return []
    found = []
    for part in match.group("names").split(","):
        name = part.strip().split(" as ")[0].strip()
        if any(piece.startswith("_") and not piece.startswith("__") for piece in name.split(".")):
            found.append(name)
    return found
