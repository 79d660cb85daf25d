-- Dashboard sign-in: sessions, one-time set-password links, failed
-- sign-ins (for throttling) and used one-time form nonces. Every secret
-- is stored as its SHA-256 only.

CREATE TABLE sessions (
	hash         BLOB PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users (id),
	org_id       TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	ip           TEXT NOT NULL DEFAULT '',
	user_agent   TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE password_links (
	hash       BLOB PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users (id),
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX password_links_user ON password_links (user_id);

-- signin_failures holds one row per failed sign-in, keyed by account
-- ("email:...") and by client address ("ip:...").
CREATE TABLE signin_failures (
	key  TEXT NOT NULL,
	time INTEGER NOT NULL
) STRICT;

CREATE INDEX signin_failures_key_time ON signin_failures (key, time);

CREATE TABLE used_nonces (
	hash       BLOB PRIMARY KEY,
	expires_at INTEGER NOT NULL
) STRICT;
