"""Retention: what is kept how long, and the nightly run."""
