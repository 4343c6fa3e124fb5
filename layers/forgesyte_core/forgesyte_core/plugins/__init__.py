"""Plugins: the catalog the API serves, the registry the runner loads, and where model files may come from."""
