"""Invoice email: composing messages and delivering them over SMTP or to an outbox."""
