"""Signing services: an admin-registered script that signs files with a GPG key.

The script gets the path of the file to sign as its only argument (and the key's fingerprint in
``PULP_SIGNING_KEY_FINGERPRINT``) and prints JSON naming the signed file and its detached
signature: ``{"file": "...", "signature": "..."}``. Plugins call :meth:`SigningService.sign`.
"""

import json
import os
import subprocess
import tempfile

from django.db import models

from pulpcore.app.models.base import BaseModel

SIGN_TIMEOUT = 60


class SigningError(Exception):
    """The script failed or printed something that is not a signature report."""


class SigningService(BaseModel):
    """A named script plus the public key whose private half it signs with."""

    name = models.TextField(unique=True)
    script = models.TextField()
    public_key = models.TextField()
    pubkey_fingerprint = models.TextField()

    def sign(self, filename: str, env_vars: dict | None = None) -> dict:
        """Run the script on ``filename``; return its JSON report (``file``, ``signature``)."""
        env = {
            **os.environ,
            **(env_vars or {}),
            "PULP_SIGNING_KEY_FINGERPRINT": self.pubkey_fingerprint,
        }
        try:
            proc = subprocess.run(
                [self.script, filename],
                env=env,
                capture_output=True,
                text=True,
                timeout=SIGN_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SigningError(f"The signing script {self.script} could not run: {exc}") from exc
        if proc.returncode != 0:
            raise SigningError(
                f"The signing script {self.script} exited with code {proc.returncode}: "
                f"{proc.stderr.strip()}"
            )
        try:
            report = json.loads(proc.stdout)
        except ValueError as exc:
            raise SigningError(
                f"The signing script {self.script} did not print JSON: {proc.stdout[:200]!r}"
            ) from exc
        if not isinstance(report, dict) or not {"file", "signature"} <= set(report):
            raise SigningError(
                f"The signing script {self.script} must print an object with 'file' and "
                f"'signature'; it printed {proc.stdout[:200]!r}"
            )
        return report

    def validate(self) -> None:
        """Sign a scratch file and check the signature with the registered public key."""
        with tempfile.TemporaryDirectory(prefix="pulp-signing-") as tmp:
            path = os.path.join(tmp, "probe.txt")
            with open(path, "w") as fp:
                fp.write("Pulp signing service validation\n")
            report = self.sign(path)
            signature = report["signature"]
            if not os.path.isfile(signature) or os.path.getsize(signature) == 0:
                raise SigningError(
                    f"The signing script {self.script} named a signature file that does not "
                    f"exist or is empty: {signature}"
                )
            verify_detached(self.public_key, report["file"], signature, tmp)


def gpg_run(args: list[str], home: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run gpg in a private home so no user keyring is read or changed."""
    return subprocess.run(
        ["gpg", "--batch", "--no-tty", "--homedir", home, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=SIGN_TIMEOUT,
        check=False,
    )


def verify_detached(public_key: str, filename: str, signature: str, workdir: str) -> None:
    """Raise SigningError unless ``signature`` is a good signature of ``filename`` by the key."""
    home = tempfile.mkdtemp(prefix="gpghome-", dir=workdir)
    os.chmod(home, 0o700)
    imported = gpg_run(["--import"], home, stdin=public_key)
    if imported.returncode != 0:
        raise SigningError(f"The public key could not be imported: {imported.stderr.strip()}")
    checked = gpg_run(["--verify", signature, filename], home)
    if checked.returncode != 0:
        raise SigningError(
            f"The signature the script made does not verify with the public key: "
            f"{checked.stderr.strip()}"
        )
