"""``python -m bench.scale.load_main CASES TASKS PASSWORD [--reuse]``: Django set up, then
``bench.scale.sign_in``; prints its JSON on the last line (``bench.scale`` reads it).
``--reuse``: the rows are there already (a database kept from an earlier run)."""

import json
import os
import sys

import django

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from bench.scale import sign_in  # after setup: it imports models

    reuse = "--reuse" in sys.argv[4:]
    print(json.dumps(sign_in.load_and_sign_in(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], reuse=reuse)))
