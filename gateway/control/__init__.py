"""The control plane's repositories: districts, consumers, credentials, signing keys.

Plain async functions over an asyncpg connection; every operator action writes its audit row
in the same transaction as the change.
"""
