"""Operations: health, metrics, read-only mode, capacity, status page, backups."""
