"""Helpers the data-protection features share: who owns which rows, the forms of the privacy desk,
and which organisations the signed-in office user staffs."""
