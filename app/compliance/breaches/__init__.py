"""Personal data breaches: the log, the decision and the DPO's reminders."""
