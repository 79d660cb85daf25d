-- OAuth: the clients of keyward's authorization server and the
-- authorization codes it issues (stored by SHA-256 only).

CREATE TABLE oauth_clients (
	-- id is "dcr_..." for a registered client, the document's https URL
	-- for a client known by its Client ID Metadata Document.
	id            TEXT PRIMARY KEY,
	kind          TEXT NOT NULL,
	name          TEXT NOT NULL DEFAULT '',
	-- redirect_uris is a JSON array of strings.
	redirect_uris TEXT NOT NULL,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE oauth_codes (
	-- hash is the SHA-256 of the code; the code itself is never stored.
	hash           BLOB PRIMARY KEY,
	client_id      TEXT NOT NULL REFERENCES oauth_clients (id),
	user_id        TEXT NOT NULL REFERENCES users (id),
	org_id         TEXT NOT NULL REFERENCES orgs (id),
	redirect_uri   TEXT NOT NULL,
	code_challenge TEXT NOT NULL,
	resource       TEXT NOT NULL,
	scope          TEXT NOT NULL DEFAULT '',
	created_at     INTEGER NOT NULL,
	expires_at     INTEGER NOT NULL,
	used_at        INTEGER,
	-- token_id is the token the code's exchange issued ('' before).
	token_id       TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX oauth_codes_expires ON oauth_codes (expires_at);
