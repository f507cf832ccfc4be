-- The ticket's priority when the clock stopped (for an open clock, as last derived): the
-- report breaks compliance down by it (issue 8). Clocks derived before this column have
-- none until their ticket is derived again.
ALTER TABLE clocks ADD COLUMN priority TEXT;
