"""What users touch: the command line (and later the HTTP service)."""
