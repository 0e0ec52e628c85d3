"""HTTP handlers, one module per area; each handler parses, calls the store, renders."""
