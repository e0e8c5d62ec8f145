"""Secrets: generating and hashing client secrets, and encrypting what must be sent on."""
