-- Breach cases: one per breach fact (its key is the case id), worked through the steps
-- of the breach response. Never deleted: a breach a late event undoes is `withdrawn`.
CREATE TABLE breach_cases (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    ticket         TEXT NOT NULL,
    customer       TEXT,
    agreement_type TEXT NOT NULL,
    agreement      TEXT NOT NULL,
    objective      TEXT NOT NULL,
    metric         TEXT NOT NULL,
    cycle          INTEGER NOT NULL,
    breached_at    INTEGER NOT NULL,
    opened_at      INTEGER NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('open', 'closed', 'withdrawn')),
    closed_at      INTEGER,
    -- JSON object: step name -> {"at", "by", and the step's fields}.
    steps          TEXT NOT NULL,
    -- JSON array of notify entries: who gets its reminders and its withdrawal.
    targets        TEXT NOT NULL,
    -- Seconds a step may linger before its reminder; NULL: no reminders (history).
    remind_after   INTEGER
) STRICT;
CREATE INDEX breach_cases_by_customer ON breach_cases (customer, breached_at);
CREATE INDEX breach_cases_by_ticket ON breach_cases (ticket, state);
CREATE INDEX breach_cases_by_breach ON breach_cases (breached_at);
