"""The MongoDB storage backend: a local or shared deployment, and the cloud sync's target."""
