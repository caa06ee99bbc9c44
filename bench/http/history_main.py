"""``python -m bench.http.history_main CASES``: Django set up, then ``bench.http.history``'s
load; prints its facts as JSON on the last line (``bench.http.server.load_history`` reads it)."""

import json
import os
import sys

import django

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from bench.http import history  # after setup: it imports models

    print(json.dumps(history.load_history(int(sys.argv[1]))))
