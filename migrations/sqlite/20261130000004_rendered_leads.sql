-- Each lead as the API shows it, JSON rendered by SQLite when the row is
-- written. The bare lead list on SQLite is JSON that SQLite renders
-- (`auth::alongside`, `db::json`); building twenty objects per request, their
-- timestamps above all, was most of the statement's work. As a stored
-- generated column the text is always the row's (an UPDATE renders it again)
-- with no write path having to maintain it, and the list only joins the
-- rows' texts. Alternated 5 s runs of the list against the same data: with
-- only the timestamp stored, 12 of 16 won (medians 11,800 against 11,000
-- requests/s, 140 against 150 us of server CPU a request); with the whole
-- object, 6 of 8 won again (14,400 against 13,200; 112 against 122 us). The
-- price is the text beside each row (the base seed's 100,000 leads: a 41 MB
-- file before, 59 MB after a VACUUM).
--
-- json_object escapes as serde_json does. The timestamp's whole seconds go
-- through datetime (its space made a `T`), its microseconds are the last six
-- digits of 1000000 + us, both floored so that times before 1970 read as the
-- `time` crate formats them. A test compares the list's bytes with serde's.
-- SQLite cannot add a stored generated column to a table, so the table is
-- rebuilt.
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
    rendered   TEXT   NOT NULL GENERATED ALWAYS AS (json_object(
        'id', id, 'name', name, 'email', email, 'message', message,
        'created_at', replace(datetime((created_at - ((created_at % 1000000) + 1000000) % 1000000)
                                       / 1000000, 'unixepoch'), ' ', 'T')
                      || '.' || substr(((created_at % 1000000) + 1000000) % 1000000 + 1000000, 2)
                      || 'Z',
        'owner', owner_id
    )) STORED
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
