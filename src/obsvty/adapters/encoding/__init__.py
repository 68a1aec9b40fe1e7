"""The domain model and its stored forms as JSON and columns, shared by every backend, the API and
the export: typed JSON of attribute values, Arrow rows back to domain batches."""
