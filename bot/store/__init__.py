"""Persistence edges: one SQLite file, reached only through a worker thread."""
