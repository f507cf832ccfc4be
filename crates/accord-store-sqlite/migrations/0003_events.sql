-- Ticket events as received (the truth clocks are derived from), in arrival order.
CREATE TABLE ticket_events (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    id     TEXT NOT NULL UNIQUE,
    ticket TEXT NOT NULL,
    body   TEXT NOT NULL
) STRICT;
CREATE INDEX ticket_events_by_ticket ON ticket_events (ticket, seq);

-- One row per ticket: its first `created` event and its current customer (for the
-- customer-bound filter).
CREATE TABLE tickets (
    ticket     TEXT PRIMARY KEY,
    created_id TEXT,
    customer   TEXT
) STRICT;

-- Each ticket's clocks as last derived: the at-risk queue reads these.
CREATE TABLE clocks (
    ticket          TEXT NOT NULL,
    agreement_type  TEXT NOT NULL,
    metric          TEXT NOT NULL,
    cycle           INTEGER NOT NULL,
    customer        TEXT,
    team            TEXT,
    agreement       TEXT NOT NULL,
    objective       TEXT NOT NULL,
    state           TEXT NOT NULL,
    started_at      INTEGER NOT NULL,
    stopped_at      INTEGER,
    breached_at     INTEGER,
    deadline        INTEGER,
    elapsed_seconds INTEGER NOT NULL,
    target_seconds  INTEGER NOT NULL,
    PRIMARY KEY (ticket, agreement_type, metric, cycle)
) STRICT;
CREATE INDEX clocks_by_deadline ON clocks (deadline) WHERE deadline IS NOT NULL;
CREATE INDEX clocks_by_customer ON clocks (customer, deadline);
