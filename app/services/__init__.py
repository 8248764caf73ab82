"""The write side: what routes and jobs call to change state."""
