-- Leads are serialized by the application alone again: the stored JSON
-- column goes (SQLite rewrites the table's rows without it; ids, the
-- AUTOINCREMENT high-water mark and the indexes stay).
ALTER TABLE leads DROP COLUMN rendered;
