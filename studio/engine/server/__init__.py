"""Team mode: connecting a studio to a shared PostgreSQL, Redis and S3/MinIO server."""
