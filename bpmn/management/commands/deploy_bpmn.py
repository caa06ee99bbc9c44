from django.core.management.base import BaseCommand, CommandError

from bpmn.loading import bpmn_files, forms_for
from bpmn.services import InvalidModel, deploy_definition
from core.errors import ServiceError


class Command(BaseCommand):
    help = "Deploy BPMN files (or every .bpmn in the given folders) with the forms beside them."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help=".bpmn files or folders")

    def handle(self, *args, paths, **options):
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
                    actor=None, bpmn_xml=path.read_bytes(), forms=forms_for(path),
                    filename=path.name, check_permission=False,
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
