"""DCCT rulings become knowledge: proposals from answered requests, four-eyes approval,
the adviser taking approved rulings in on every replica, and their export to knowledge/."""
