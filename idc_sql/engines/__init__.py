"""Engines execute compiled queries; they never build SQL from user input themselves."""
