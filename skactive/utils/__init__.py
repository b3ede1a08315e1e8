"""Validation helpers shared by the strategies (internal)."""
