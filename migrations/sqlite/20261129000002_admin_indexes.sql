-- The admin lists sort every column of all leads; each sort reads an index
-- (ending in id, the tie-breaker) instead of sorting the table.
CREATE INDEX leads_name_idx ON leads (name, id);
CREATE INDEX leads_email_idx ON leads (email, id);
CREATE INDEX leads_message_idx ON leads (message, id);
CREATE INDEX leads_created_idx ON leads (created_at, id);
CREATE INDEX users_date_joined_idx ON users (date_joined, id);
