"""Tests against a local BigQuery API (bqemulator) seeded with a slice of IDC v25."""
