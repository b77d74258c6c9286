"""Alembic environment and versions for the vidsearch catalog (applied on open)."""
