"""Asset storage: local folders by default, S3/MinIO in team mode, one key layout for both."""
