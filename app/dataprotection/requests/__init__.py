"""Privacy requests: intake, the office's workflow, deadlines and reminders."""
