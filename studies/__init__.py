"""Studies: scripts that run a whole analysis and write a report a person can read.

Run one with ``python -m studies NAME [options]``; ``python -m studies --help`` lists them.
"""
