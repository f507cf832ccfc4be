-- Milestones of clocks still to be announced (warnings, breaches, escalations): replaced
-- with their ticket's clocks; a notice whose fact is announced is dropped.
CREATE TABLE notices (
    key     TEXT PRIMARY KEY,
    ticket  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    due_at  INTEGER NOT NULL,
    body    TEXT NOT NULL,
    targets TEXT NOT NULL
) STRICT;
CREATE INDEX notices_by_due ON notices (due_at);
CREATE INDEX notices_by_ticket ON notices (ticket);

-- Every fact recorded, once (the key is the idempotency key of DESIGN 4.3).
CREATE TABLE announcements (
    key       TEXT PRIMARY KEY,
    ticket    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    at        INTEGER NOT NULL,
    announced INTEGER NOT NULL
) STRICT;
CREATE INDEX announcements_by_ticket ON announcements (ticket, at);

-- Messages to deliver: one per fact and target, at least once, with retries.
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    fact            TEXT NOT NULL,
    target          TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
) STRICT;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_by_state ON outbox (state, seq);
