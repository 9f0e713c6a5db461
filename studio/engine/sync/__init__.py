"""Syncing a solo studio's records and files with a team server."""
