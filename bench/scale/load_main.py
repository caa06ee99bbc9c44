"""``python -m bench.scale.load_main CASES TASKS PASSWORD``: Django set up, then
``bench.scale.sign_in``; prints its JSON on the last line (``bench.scale`` reads it)."""

import json
import os
import sys

import django

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from bench.scale import sign_in  # after setup: it imports models

    print(json.dumps(sign_in.load_and_sign_in(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])))
