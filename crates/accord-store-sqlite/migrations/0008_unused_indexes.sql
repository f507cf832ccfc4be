-- Indexes no query reads through, yet every row written paid for (an index comes back
-- with the query shaped to use it):
-- - the clocks' two: the at-risk queue orders by an expression of the state and deadline
--   and filters with optional values, so SQLite scans the table either way; the
--   period's ended clocks are found by state and one of three instants;
-- - breach cases by customer: the case list filters by an optional customer while it
--   walks the cases in breach order (`breach_cases_by_breach`).
DROP INDEX clocks_by_deadline;
DROP INDEX clocks_by_customer;
DROP INDEX breach_cases_by_customer;
