"""Reports: the JSON findings document (schema.py) and rich tables for people."""
