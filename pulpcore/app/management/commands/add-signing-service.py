"""``pulpcore-manager add-signing-service NAME SCRIPT KEYID [--gnupghome DIR] [--keyring FILE]``."""

import os
import subprocess

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from pulpcore.app.models import SigningService
from pulpcore.app.models.signing import SigningError


def _gpg(options: dict, *args: str) -> subprocess.CompletedProcess:
    cmd = ["gpg", "--batch", "--no-tty"]
    if options.get("gnupghome"):
        cmd += ["--homedir", options["gnupghome"]]
    if options.get("keyring"):
        cmd += ["--no-default-keyring", "--keyring", options["keyring"]]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=60, check=False)


class Command(BaseCommand):
    help = (
        "Register a signing script with the public key it signs with. The script is run once on "
        "a scratch file and its signature checked before the service is saved."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="unique name of the signing service")
        parser.add_argument("script", help="absolute path of the executable signing script")
        parser.add_argument("key", help="key id or fingerprint of the signing key")
        parser.add_argument("--gnupghome", help="GnuPG home holding the public key")
        parser.add_argument("--keyring", help="GnuPG keyring file holding the public key")
        parser.add_argument(
            "--class",
            dest="service_class",
            default="core:AsciiArmoredDetachedSigningService",
            help="kind of signing service (only detached ASCII-armored signatures are known)",
        )

    def handle(self, *args, **options):
        script = options["script"]
        if SigningService.objects.filter(name=options["name"]).exists():
            raise CommandError(f"A signing service named '{options['name']}' already exists.")
        if not os.path.isabs(script) or not os.access(script, os.X_OK):
            raise CommandError(
                f"The signing script {script} must be an absolute path to an executable."
            )
        exported = _gpg(options, "--armor", "--export", options["key"])
        if exported.returncode != 0 or "PUBLIC KEY" not in exported.stdout:
            raise CommandError(
                f"No public key {options['key']} in the keyring: {exported.stderr.strip()}"
            )
        listed = _gpg(options, "--with-colons", "--fingerprint", options["key"])
        fingerprints = [
            line.split(":")[9] for line in listed.stdout.splitlines() if line.startswith("fpr:")
        ]
        if not fingerprints:
            raise CommandError(f"Could not read the fingerprint of {options['key']}.")
        service = SigningService(
            name=options["name"],
            script=script,
            public_key=exported.stdout,
            pubkey_fingerprint=fingerprints[0],
        )
        try:
            service.validate()
        except SigningError as exc:
            raise CommandError(f"The signing service failed validation: {exc}")
        try:
            with transaction.atomic():
                service.save()
        except IntegrityError:
            raise CommandError(f"A signing service named '{options['name']}' already exists.")
        self.stdout.write(
            f"Successfully added signing service {service.name} "
            f"for key {service.pubkey_fingerprint}."
        )
