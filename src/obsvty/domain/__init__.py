"""The telemetry domain: records, columnar batches and the rules they obey. No I/O, no protobuf."""
