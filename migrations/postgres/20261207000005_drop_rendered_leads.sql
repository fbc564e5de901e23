-- Leads are serialized by the application alone again: the stored JSON
-- column and the function that rendered it go.
ALTER TABLE leads DROP COLUMN rendered;
DROP FUNCTION leads_render(BIGINT, TEXT, TEXT, TEXT, BIGINT, BIGINT);
