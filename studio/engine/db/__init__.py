"""Records: ORM models, the session factory, migrations and workspace-scoped repositories."""
