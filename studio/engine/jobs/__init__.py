"""Jobs: records with a lifecycle, the Huey queues that carry them, and the worker that runs them."""
