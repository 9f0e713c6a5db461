"""Reusable widgets: thin views over the models in ``studio.ui.models``."""
