"""Assay worker daemon: stakes, claims jobs for the models it serves, runs them, publishes the
results content-addressed and submits their hashes, then finalizes to get paid."""
