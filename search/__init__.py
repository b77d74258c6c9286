"""The retrieval core: settings, catalog, vector store, encoders and ranking (third-party imports only)."""
