-- Users, Knox-style tokens and leads. Timestamps are unix microseconds (UTC).

CREATE TABLE users (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    username    TEXT    NOT NULL,
    -- The username case-folded (Unicode, in Rust): SQLite's lower() folds
    -- ASCII only, so uniqueness and lookups use this column on both backends.
    username_key TEXT   NOT NULL,
    email       TEXT    NOT NULL DEFAULT '',
    password    TEXT    NOT NULL,
    is_staff    BOOLEAN NOT NULL DEFAULT FALSE,
    is_active   BOOLEAN NOT NULL DEFAULT TRUE,
    date_joined BIGINT  NOT NULL,
    last_login  BIGINT
);
CREATE UNIQUE INDEX users_username_key_uq ON users (username_key);

CREATE TABLE auth_tokens (
    digest    TEXT   NOT NULL PRIMARY KEY,
    token_key TEXT   NOT NULL,
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created   BIGINT NOT NULL,
    expiry    BIGINT,
    last_used BIGINT NOT NULL,
    client    TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX auth_tokens_token_key_idx ON auth_tokens (token_key);
CREATE INDEX auth_tokens_user_idx ON auth_tokens (user_id, created);
CREATE INDEX auth_tokens_expiry_idx ON auth_tokens (expiry);

CREATE TABLE leads (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT   NOT NULL,
    email      TEXT   NOT NULL,
    email_key  TEXT   NOT NULL, -- the email case-folded, unique
    message    TEXT   NOT NULL,
    -- name, email and message case-folded in Rust and joined by spaces:
    -- searches scan this one column with a plain LIKE on both backends.
    search_key TEXT   NOT NULL,
    owner_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX leads_email_key_uq ON leads (email_key);
CREATE INDEX leads_owner_idx ON leads (owner_id, id);
