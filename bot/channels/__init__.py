"""Channels: each turns one wire format into conversation calls and renders the replies.

The only place a Bot SDK is imported (tests/test_layers.py enforces it).
"""
