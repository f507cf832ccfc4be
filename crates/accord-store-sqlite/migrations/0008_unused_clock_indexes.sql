-- No query reads the clocks through these two indexes (the at-risk queue orders by an
-- expression of the state and deadline and filters with optional values, so SQLite scans
-- the table either way; the period's ended clocks are found by state and one of three
-- instants), yet every clock row written paid for both. An index comes back with the
-- query shaped to use it.
DROP INDEX clocks_by_deadline;
DROP INDEX clocks_by_customer;
