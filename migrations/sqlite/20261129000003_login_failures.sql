-- Failed logins, counted per (client address, username) and per client
-- address over a sliding window (SPEC §5). Kept in the database so that
-- every instance on it throttles alike; `leads cleartokens` and each new
-- failure from an address prune rows older than the window.
CREATE TABLE login_failures (
    client_ip    TEXT   NOT NULL,
    -- The username as tried, case-folded like users.username_key.
    username_key TEXT   NOT NULL,
    failed_at    BIGINT NOT NULL
);
-- Both counts read the newest failures of an address (and user) first.
CREATE INDEX login_failures_pair_idx ON login_failures (client_ip, username_key, failed_at);
CREATE INDEX login_failures_ip_idx ON login_failures (client_ip, failed_at);
CREATE INDEX login_failures_time_idx ON login_failures (failed_at);
