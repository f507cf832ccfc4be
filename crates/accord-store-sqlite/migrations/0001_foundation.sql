-- Settings Accord keeps for itself (e.g. whether the first admin token was made).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- API tokens: only the SHA-256 digest of the secret is kept.
CREATE TABLE api_tokens (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    label       TEXT NOT NULL,
    scope       TEXT NOT NULL CHECK (scope IN ('admin', 'ingest', 'read')),
    customer_id TEXT,
    digest      BLOB NOT NULL UNIQUE CHECK (length(digest) = 32),
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
) STRICT;

CREATE TABLE customers (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    tier     TEXT,
    region   TEXT,
    timezone TEXT
) STRICT;

-- Who changed what. Written in the same transaction as the change it records.
CREATE TABLE audit_log (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
) STRICT;
