"""Assay worker daemon: stakes, claims jobs for the models it serves, runs them, publishes the
results content-addressed and submits (or commits and reveals) their hashes, then settles to get paid."""
