"""The name the bench's case search looks for (``bench.scale``: "case search"), apart from
``bench.scale.load``: ``python -m bench.scale`` imports it before Django is set up.

``bench.scale.load`` gives it to the same 300 cases at every size from 10,000 tasks (3,000
cases) on: every tenth of the first 3,000, whose agencies are the same at every size
(``_pick`` reads the case's number only). So the search finds the same cases, seen by the
same agencies, at 10,000 tasks and at a million: the same request. (A "Person <n>" search is
not: "Person 4711" matches no name among 3,000 cases and 111 among 300,000, and every name
holds the trigrams of "Person".) Its trigrams are in no other name, as a real surname's are
in few of a register's names.
"""

SEARCHED_NAME = "Fjellheim"
SEARCHED_EVERY, SEARCHED_UP_TO = 10, 3_000
