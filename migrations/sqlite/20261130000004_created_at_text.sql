-- Each lead's created_at as the API shows it (`2026-11-29T11:03:18.736308Z`),
-- stored with the row. The bare lead list on SQLite is JSON rendered by
-- SQLite itself (`auth::alongside`, `db::json`), and formatting twenty
-- timestamps on every request was a good part of its cost: with them stored,
-- 16 alternated 5 s runs of the list, 12 won, medians 11,800 against 11,000
-- requests/s, 140 against 150 us of server CPU a request. created_at
-- never changes, and a generated column keeps the text right with no write
-- path having to maintain it. SQLite cannot add a stored generated column to
-- a table, so the table is rebuilt.
--
-- The whole seconds go through datetime (its space made a `T`), the
-- microseconds are the last six digits of 1000000 + µs, both floored so that
-- times before 1970 read as the `time` crate formats them; a test compares
-- the list's bytes with serde's.
CREATE TABLE leads_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT   NOT NULL,
    email      TEXT   NOT NULL,
    email_key  TEXT   NOT NULL, -- the email case-folded, unique
    message    TEXT   NOT NULL,
    -- name, email and message case-folded in Rust and joined by spaces:
    -- searches scan this one column with a plain LIKE on both backends.
    search_key TEXT   NOT NULL,
    owner_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    created_at_text TEXT NOT NULL GENERATED ALWAYS AS (
        replace(datetime((created_at - ((created_at % 1000000) + 1000000) % 1000000) / 1000000,
                         'unixepoch'), ' ', 'T')
        || '.' || substr(((created_at % 1000000) + 1000000) % 1000000 + 1000000, 2) || 'Z'
    ) STORED
);
INSERT INTO leads_new (id, name, email, email_key, message, search_key, owner_id, created_at)
    SELECT id, name, email, email_key, message, search_key, owner_id, created_at FROM leads;
-- AUTOINCREMENT's high-water mark goes along: a deleted lead's id is never
-- given again.
DELETE FROM sqlite_sequence WHERE name = 'leads_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'leads_new', seq FROM sqlite_sequence WHERE name = 'leads';
DROP TABLE leads;
ALTER TABLE leads_new RENAME TO leads;

CREATE UNIQUE INDEX leads_email_key_uq ON leads (email_key);
CREATE INDEX leads_owner_idx ON leads (owner_id, id);
-- The admin lists sort every column of all leads; each sort reads an index
-- (ending in id, the tie-breaker) instead of sorting the table.
CREATE INDEX leads_name_idx ON leads (name, id);
CREATE INDEX leads_email_idx ON leads (email, id);
CREATE INDEX leads_message_idx ON leads (message, id);
CREATE INDEX leads_created_idx ON leads (created_at, id);
