"""Data protection: privacy requests, exports, rights, breaches, notices, retention, the register and the data inventory."""
