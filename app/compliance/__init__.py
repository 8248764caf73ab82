"""The school's own data-protection duties: personal-data breaches (P28), privacy notices and
their acknowledgement (P07), and the register of processing built from app.models.inventory."""
