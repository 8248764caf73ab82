"""What every feature stands on: settings, extensions, Redis, security, errors, authorisation, storage, transactions, audit, consent and the job queue."""
