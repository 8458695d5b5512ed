"""Fakes of the services devexbot talks to, each a real local HTTP server speaking the real API."""
