"""Families and staff: the roster import, invitations, membership and settings."""
