"""``make bench-scale``: the read paths at a national scale (issue 12, point 5)."""
