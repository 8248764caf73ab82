"""Access exports: building, storing and handing over a person's data."""
