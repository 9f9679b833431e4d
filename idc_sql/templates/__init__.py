"""Saved SQL templates: BigQuery SQL files, named, checked, parameterised and run on any engine
that holds the tables they read."""
