"""The case the clients work (shared by the locust clients and the two-node test, without locust)."""

PROCESS = "prison_release_to_housing"
# Who works each agency's inbox (the demo cast of ``seed_demo``).
WORKER_OF = {"prison": "kari", "nav": "nils", "health": "helga", "housing": "bjorn"}
# Steer the gateways through the longest path: no home at release, one found later.
OVERRIDES = {"has_home": False, "home_found": True}
# Synthetic test numbers (month + 80): no real person.
NATIONAL_IDS = ("17912099997", "29822099635", "05840399895")
