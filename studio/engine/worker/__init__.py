"""The processes that run jobs: the worker, and a job run here when no worker is up."""
