"""The database: table definitions, migrations and the engine every store opens."""
