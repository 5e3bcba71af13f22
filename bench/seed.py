"""Seeds the database DATABASE_URL names with the benchmarks' data (bench/scale_seed.py):

    .venv/bin/python bench/seed.py --tasks 1000000 --users 1000 --projects 2000 [--reset]

A script, not a management command, so that the product's apps carry no bench code. Django is
set up as manage.py sets it up (config.settings, the same environment and `.env`).
"""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from bench.scale_seed import main

    main()
