"""Django's PostgreSQL backend with a health check that sends nothing to a healthy connection
(``base.DatabaseWrapper.is_usable``); ``config.database`` names it as the engine."""
