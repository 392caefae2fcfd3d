"""Persistence: one `Database` interface (database.py) on SQLite or PostgreSQL.

See README.md beside this file for the layout and how to add a table.
"""
