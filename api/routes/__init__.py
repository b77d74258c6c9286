"""The HTTP routes, one module per resource: search, videos, jobs, and operations."""
