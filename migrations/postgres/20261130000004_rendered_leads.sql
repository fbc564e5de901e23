-- Each lead as the API shows it, JSON rendered by PostgreSQL when the row is
-- written (a stored generated column: an UPDATE renders it again, and no
-- write path has to maintain it). The bare lead list returns these texts,
-- which the server joins into the response, instead of six columns a row
-- that it decoded and serialized again, and the list's statement returns
-- one row, not twenty (`auth::alongside`). 8 alternated 4 s runs of the
-- list against the same data: 8 won, medians 7,400 against 6,000
-- requests/s; server CPU 114 against 160 us a request, PostgreSQL's 118
-- against 131. SQLite stores the same column.
--
-- The text is serde_json's: keys in the struct's order, no spaces, strings
-- escaped by to_json (`"`, `\`, `\b \f \n \r \t`, other control characters
-- as `\u00xx`, nothing else), times as `2026-11-29T11:03:18.736308Z`: whole
-- seconds (floored, so that times before 1970 read as the `time` crate
-- formats them) through to_timestamp, exact for whole numbers, and the
-- microseconds by hand. A test compares the list's bytes with serde's.
--
-- Generated columns take immutable expressions only: to_json of a text and
-- to_char of a timestamp are marked stable because of other types and of
-- patterns (month names) not used here, so they are called from a function
-- declared immutable. A PL/pgSQL one: PostgreSQL inlines no SQL function
-- whose body is less immutable than its declaration, and planned the bodies
-- of such SQL functions anew in every INSERT (four of them took the bench's
-- creates from 2,984 to 2,135 requests/s).
CREATE FUNCTION leads_render(id BIGINT, name TEXT, email TEXT, message TEXT,
                             created_at BIGINT, owner_id BIGINT) RETURNS TEXT
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    micros CONSTANT BIGINT := ((created_at % 1000000) + 1000000) % 1000000;
BEGIN
    RETURN '{"id":' || id::text
        || ',"name":' || to_json(name)::text
        || ',"email":' || to_json(email)::text
        || ',"message":' || to_json(message)::text
        || ',"created_at":"'
        || to_char(to_timestamp(div(created_at - micros, 1000000)) AT TIME ZONE 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS')
        || '.' || lpad(micros::text, 6, '0')
        || 'Z","owner":' || owner_id::text || '}';
END
$$;

ALTER TABLE leads ADD COLUMN rendered TEXT NOT NULL GENERATED ALWAYS AS (
    leads_render(id, name, email, message, created_at, owner_id)
) STORED;
