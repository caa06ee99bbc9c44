import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bpmn.loading import bpmn_files, called_files, forms_for
from bpmn.services import InvalidModel, deploy_definition
from core.errors import ServiceError


class Command(BaseCommand):
    help = "Deploy BPMN files (or every .bpmn in the given folders) with the forms beside them."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help=".bpmn files or folders")
        parser.add_argument(
            "--map",
            dest="routing",
            metavar="FILE_OR_JSON",
            help="the routing map for every file: a JSON file or JSON text, e.g. "
            '\'{"lanes": {"Lane 1": "nav"}, "groups": {"accounting": "nav"}, "default": "housing"}\'',
        )

    def handle(self, *args, paths, routing=None, **options):
        routing = _routing_map(routing)
        try:
            files = bpmn_files(paths)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        if not files:
            raise CommandError("no .bpmn files found")
        failed = 0
        for path in files:
            try:
                result = deploy_definition(
                    actor=None,
                    bpmn_xml=path.read_bytes(),
                    forms=forms_for(path),
                    filename=path.name,
                    check_permission=False,
                    routing=routing,
                    # the processes its call activities call, from the files beside it
                    called=called_files(path) or None,
                )
            except InvalidModel as exc:
                failed += 1
                self.stderr.write(f"{path}: refused")
                for issue in exc.issues:
                    self.stderr.write(f"  - {issue}")
                continue
            except (ServiceError, ValueError) as exc:
                failed += 1
                self.stderr.write(f"{path}: refused: {exc}")
                continue
            definition = result.definition
            state = "deployed" if result.created else "unchanged"
            self.stdout.write(f"{path}: {definition.key} version {definition.version} ({state})")
        if failed:
            raise CommandError(f"{failed} of {len(files)} file(s) refused")


def _routing_map(value: str | None) -> dict | None:
    """``--map``: JSON text (starts with ``{``) or the path of a JSON file."""
    if not value:
        return None
    text = value
    if not value.lstrip().startswith("{"):
        try:
            text = Path(value).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"--map: cannot read {value}: {exc.strerror}") from exc
    try:
        routing = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"--map: not JSON: {exc}") from exc
    if not isinstance(routing, dict):
        raise CommandError("--map: the routing map must be a JSON object")
    return routing
