"""Background jobs: the store, the job process and the dispatchers (local, Ray)."""
