"""Escalation: tickets to a line manager or the DCCT, delivered durably, answers relayed."""
