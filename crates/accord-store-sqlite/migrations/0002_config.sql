-- Applied SLA-as-code: every revision, whole (the files as sent), newest last.
CREATE TABLE config_revisions (
    revision INTEGER PRIMARY KEY AUTOINCREMENT,
    applied_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    files TEXT NOT NULL
) STRICT;
