"""Photo pipeline budget (issue 5): a 12-megapixel JPEG becomes ≤ 300 KB in ≤ 0.6 s with peak
memory ≤ 200 MB.

The photo is generated (gradients plus grain at several scales, so it compresses like a real
camera picture: about 4.4 MB at quality 95). The measuring runs in a fresh subprocess, because
Pillow decodes in C: ``tracemalloc`` sees only Python's own allocations, while the growth of
``ru_maxrss`` (the process's peak resident memory) counts everything.

    python -m bench.bench_photos        # this area alone
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5


def make_photo(width: int = 4000, height: int = 3000) -> bytes:
    """A 12 MP JPEG with the detail of a real photo: gradients, texture and sensor grain."""
    from PIL import Image, ImageChops

    size = (width, height)

    def grain(scale: int, sigma: float) -> Image.Image:
        small = Image.effect_noise((max(1, width // scale), max(1, height // scale)), sigma)
        return small if scale == 1 else small.resize(size, Image.Resampling.BICUBIC)

    ramp = Image.linear_gradient("L")
    light = [ramp.resize(size), Image.radial_gradient("L").resize(size), ramp.rotate(90).resize(size)]
    channels = []
    for base in light:
        texture = ImageChops.add(grain(40, 50), grain(8, 30), 2, -128)
        texture = ImageChops.add(texture, grain(1, 24), 1, -128)
        channels.append(ImageChops.add(base, texture, 2, -64))
    picture = Image.merge("RGB", channels)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=95)
    return out.getvalue()


def _child(source: str, workdir: str) -> None:
    """Runs in the subprocess: process the photo, print the figures as one JSON line."""
    import resource
    import tracemalloc

    from cryptography.fernet import Fernet
    from flask import Flask

    from app.core import storage
    from app.core.config import Config
    from app.learning import photos

    app = Flask("bench_photos")
    app.config.from_object(Config)  # the app's own limits (the decoded size a photo may have)
    app.config.update(
        STORAGE_DIR=os.path.join(workdir, "files"), ENCRYPTION_KEYS=Fernet.generate_key().decode()
    )
    data = Path(source).read_bytes()
    with app.app_context():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        tracemalloc.start()
        started = time.perf_counter()
        first = photos.process_photo(io.BytesIO(data))
        cold = time.perf_counter() - started
        python_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        times, cpu = [], []
        for _ in range(RUNS):
            started, started_cpu = time.perf_counter(), time.process_time()
            photos.process_photo(io.BytesIO(data))
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        thumb = len(storage.get(first.thumb_key))
    print(
        json.dumps(
            {
                "input": len(data),
                "output": first.bytes,
                "thumb": thumb,
                "size": [first.width, first.height],
                "cold": cold,
                "median": statistics.median(times),
                "cpu": statistics.median(cpu),
                "load": os.getloadavg()[0],
                "rss_delta": (after - before) * 1024,
                "rss_peak": after * 1024,
                "python_peak": python_peak,
            }
        )
    )


def run() -> list[dict]:
    """Measure the pipeline (no database needed, so ``python -m bench`` starts none for it)."""
    with tempfile.TemporaryDirectory() as workdir:
        source = Path(workdir) / "camera.jpg"
        source.write_bytes(make_photo())
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        # Linux hands a freshly exec'd process the peak RSS of the process that spawned it, so
        # the child is started from a small launcher, not from this (possibly big) process.
        launcher = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                launcher,
                sys.executable,
                "-m",
                "bench.bench_photos",
                "--child",
                str(source),
                workdir,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        f = json.loads(done.stdout.strip().splitlines()[-1])
    mb, kb = 1024 * 1024, 1024
    w, h = f["size"]

    def row(measure, value, unit, budget=None):
        return {"area": "photos", "measure": measure, "value": value, "unit": unit, "budget": budget}

    return [
        row("12 MP camera JPEG (input, generated)", round(f["input"] / mb, 2), "MB"),
        row(f"stored photo ({w}×{h})", round(f["output"] / kb, 1), "KB", 300),
        row("stored thumbnail", round(f["thumb"] / kb, 1), "KB"),
        row(f"processing time, median of {RUNS}", round(f["median"], 3), "s", 0.6),
        row("processing CPU time, median of 5", round(f["cpu"], 3), "s"),
        row("processing time, first run (cold)", round(f["cold"], 3), "s"),
        row("machine load average while measured", round(f["load"], 1), ""),
        row("peak memory added (ru_maxrss growth, subprocess)", round(f["rss_delta"] / mb, 1), "MB", 200),
        row("peak memory of the whole process (ru_maxrss)", round(f["rss_peak"] / mb, 1), "MB"),
        row("peak Python allocations (tracemalloc; misses C)", round(f["python_peak"] / mb, 1), "MB"),
    ]


def _print(rows: list[dict]) -> None:
    for r in rows:
        budget = f"  (budget ≤ {r['budget']} {r['unit']})" if r["budget"] is not None else ""
        print(f"{r['area']:<8} {r['measure']:<52} {r['value']:>9} {r['unit']:<3}{budget}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        _print(run())
