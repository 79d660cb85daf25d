-- The first schema of keyward on SQLite. Times are INTEGER microseconds
-- since the epoch (UTC); JSON columns are TEXT, NULL when absent.

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	email         TEXT NOT NULL,
	-- email_key is the lower-cased email: emails are unique and looked up
	-- case-insensitively.
	email_key     TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE orgs (
	id         TEXT PRIMARY KEY,
	slug       TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE memberships (
	org_id     TEXT NOT NULL REFERENCES orgs (id),
	user_id    TEXT NOT NULL REFERENCES users (id),
	role       TEXT NOT NULL,
	suspended  INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (org_id, user_id)
) STRICT;

CREATE INDEX memberships_org_created ON memberships (org_id, created_at, user_id);
CREATE INDEX memberships_user_created ON memberships (user_id, created_at, org_id);

CREATE TABLE tokens (
	id            TEXT PRIMARY KEY,
	kind          TEXT NOT NULL,
	org_id        TEXT NOT NULL REFERENCES orgs (id),
	-- user_id is NULL for org credentials.
	user_id       TEXT REFERENCES users (id),
	created_by    TEXT NOT NULL DEFAULT '',
	name          TEXT NOT NULL DEFAULT '',
	description   TEXT NOT NULL DEFAULT '',
	source        TEXT NOT NULL DEFAULT '',
	-- hash is the SHA-256 of the token string; the string is never stored.
	hash          BLOB NOT NULL UNIQUE,
	display       TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	expires_at    INTEGER,
	last_used_at  INTEGER,
	last_used_ip  TEXT NOT NULL DEFAULT '',
	revoked_at    INTEGER,
	revoked_by    TEXT NOT NULL DEFAULT '',
	revoke_reason TEXT NOT NULL DEFAULT '',
	generation    INTEGER NOT NULL DEFAULT 0,
	role          TEXT NOT NULL DEFAULT '',
	agent_id      TEXT NOT NULL DEFAULT '',
	permissions   TEXT,
	scopes        TEXT,
	allowed_cidrs TEXT,
	rate_limit    INTEGER NOT NULL DEFAULT 0,
	family_id     TEXT NOT NULL DEFAULT '',
	superseded_by TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX tokens_org_user_created ON tokens (org_id, user_id, created_at DESC, id DESC);
CREATE INDEX tokens_org_created ON tokens (org_id, created_at DESC, id DESC);
CREATE INDEX tokens_family ON tokens (family_id);

CREATE TABLE policies (
	org_id         TEXT PRIMARY KEY REFERENCES orgs (id),
	require_expiry INTEGER NOT NULL DEFAULT 0,
	-- max_lifetime is in microseconds; 0 means no cap.
	max_lifetime   INTEGER NOT NULL DEFAULT 0,
	allowed_kinds  TEXT,
	updated_at     INTEGER NOT NULL
) STRICT;

-- audit_events is append-only. It names tokens by id and keeps no foreign
-- keys, so that it outlives what it records.
CREATE TABLE audit_events (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	time        INTEGER NOT NULL,
	org_id      TEXT NOT NULL DEFAULT '',
	action      TEXT NOT NULL,
	actor       TEXT NOT NULL DEFAULT '',
	actor_token TEXT NOT NULL DEFAULT '',
	target      TEXT NOT NULL DEFAULT '',
	ip          TEXT NOT NULL DEFAULT '',
	user_agent  TEXT NOT NULL DEFAULT '',
	details     TEXT
) STRICT;

CREATE INDEX audit_events_org ON audit_events (org_id, id);
CREATE INDEX audit_events_org_action ON audit_events (org_id, action, id);
CREATE INDEX audit_events_org_actor ON audit_events (org_id, actor, id);
CREATE INDEX audit_events_org_target ON audit_events (org_id, target, id);

-- changes is the feed that nodes follow to keep their verification state
-- true; AUTOINCREMENT never reuses a sequence number.
CREATE TABLE changes (
	seq      INTEGER PRIMARY KEY AUTOINCREMENT,
	time     INTEGER NOT NULL,
	kind     TEXT NOT NULL,
	org_id   TEXT NOT NULL DEFAULT '',
	token_id TEXT NOT NULL DEFAULT '',
	user_id  TEXT NOT NULL DEFAULT '',
	hash     BLOB
) STRICT;
