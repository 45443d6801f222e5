"""Built-in demo: a seeded synthetic marketplace and the script that runs every stage on it."""
