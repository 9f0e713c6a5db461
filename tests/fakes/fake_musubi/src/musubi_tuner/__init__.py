"""Fake kohya musubi-tuner (tests/fakes/fake_musubi): see fake_core.py."""
