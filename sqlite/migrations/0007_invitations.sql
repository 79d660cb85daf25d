-- invitations offer an email address a role in an org. A pending
-- invitation is one row; accepting or cancelling it deletes the row. An
-- org holds at most one invitation per address: inviting again replaces
-- it. The link's token is stored as its SHA-256 only.
CREATE TABLE invitations (
	id         TEXT PRIMARY KEY,
	org_id     TEXT NOT NULL REFERENCES orgs (id),
	email      TEXT NOT NULL,
	name       TEXT NOT NULL DEFAULT '',
	role       TEXT NOT NULL,
	invited_by TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	hash       BLOB NOT NULL UNIQUE,
	UNIQUE (org_id, email)
) STRICT;

CREATE INDEX invitations_org_created ON invitations (org_id, created_at, id);
