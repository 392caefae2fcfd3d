"""Local stand-ins for Microsoft services, speaking their real wire formats.

Used by the tests and by local mode. Each is a real aiohttp server on 127.0.0.1.
"""
