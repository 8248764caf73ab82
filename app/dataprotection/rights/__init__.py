"""Rights: erasure, rectification, restriction and ownership of data."""
