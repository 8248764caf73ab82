"""Messages to people: notify(), composing, policy, delivery, providers, email events and the outbox."""
