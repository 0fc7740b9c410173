"""The organization: projects, users, service accounts, API and admin keys (OpenAI's
Administration API model), and the cached view of them the authenticator reads."""
