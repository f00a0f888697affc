"""Helpers shared by the tests: a scripted HTTP server, the Redis connection."""
