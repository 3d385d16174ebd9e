"""The published release for BI tools, packages and the pack (see publish.py and store.py)."""
