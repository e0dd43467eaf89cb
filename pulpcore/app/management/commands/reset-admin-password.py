"""``pulpcore-manager reset-admin-password [--password X | --random]``."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Set the password of the 'admin' user, creating the superuser if it does not exist."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--password", help="the new password")
        group.add_argument("--random", action="store_true", help="generate and print a password")

    def handle(self, *args, **options):
        password = options["password"]
        if options["random"]:
            password = secrets.token_urlsafe(16)
        if not password:
            import getpass

            password = getpass.getpass("Please enter new password for user 'admin': ")
            if password != getpass.getpass("Please enter new password for user 'admin' again: "):
                raise CommandError("The passwords did not match.")
        if not password:
            raise CommandError("The password must not be empty.")
        user, created = get_user_model().objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        user.set_password(password)
        user.is_active = user.is_staff = user.is_superuser = True
        user.save()
        if options["random"]:
            self.stdout.write(f"Generated password for 'admin': {password}")
        self.stdout.write(f"Successfully {'created' if created else 'reset'} the admin password.")
