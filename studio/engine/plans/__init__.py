"""Content plans: posts for an influencer over a date range, written by an LLM and reviewed."""
