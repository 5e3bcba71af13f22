"""The ASGI app freezes what it built at start-up out of the garbage collector's way: a full
collection of a served process then walks what requests left, not every module and class
(config/asgi.py)."""

import json
import subprocess
import sys

from django.conf import settings


def test_loading_the_asgi_app_freezes_its_start_up_objects():
    script = (
        "import gc, json, config.asgi; "
        "print(json.dumps([gc.get_freeze_count(), len(gc.get_objects())]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    frozen, tracked = json.loads(result.stdout.strip().splitlines()[-1])

    assert frozen > 50_000  # Django, DRF, Channels and the project, imported
    assert tracked < frozen / 5  # what the collector still walks
