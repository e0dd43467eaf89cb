"""``pulpcore-manager remove-signing-service NAME``."""

from django.core.management.base import BaseCommand, CommandError

from pulpcore.app.models import SigningService


class Command(BaseCommand):
    help = "Remove a registered signing service by name."

    def add_arguments(self, parser):
        parser.add_argument("name", help="name of the signing service to remove")

    def handle(self, *args, **options):
        deleted, _ = SigningService.objects.filter(name=options["name"]).delete()
        if not deleted:
            raise CommandError(f"No signing service named '{options['name']}'.")
        self.stdout.write(f"Removed signing service {options['name']}.")
