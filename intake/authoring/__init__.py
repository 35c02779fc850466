"""Question-set authoring: draft forms, what a publication would change, and the preview."""
