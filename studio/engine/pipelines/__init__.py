"""Plan items from picture to published folder: pipelines on the queue and their daily run."""
