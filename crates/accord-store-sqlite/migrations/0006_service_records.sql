-- Outage, maintenance, request-count and survey records (DESIGN 4.1, docs/decisions.md), each id once; the body is the record as
-- canonical JSON. Probe state per service turns consecutive failed probes into an
-- outage (DESIGN 3.3, docs/decisions.md).
CREATE TABLE service_records (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    id       TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('outage', 'maintenance', 'requests', 'survey')),
    service  TEXT NOT NULL,
    from_at  INTEGER NOT NULL,
    to_at    INTEGER NOT NULL,
    body     TEXT NOT NULL
) STRICT;
CREATE INDEX service_records_by_from ON service_records (from_at);

CREATE TABLE probe_state (
    service           TEXT PRIMARY KEY,
    -- Consecutive failed probes since the last good one.
    failures          INTEGER NOT NULL,
    first_failure_at  INTEGER,
    last_at           INTEGER NOT NULL
) STRICT;
