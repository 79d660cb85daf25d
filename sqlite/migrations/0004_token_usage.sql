-- token_usage counts each token's uses per hour (hour is the hour's start,
-- in microseconds since the epoch), for the daily usage that token lists
-- show. The usage writer adds to it in batches; a deleted token's rows go
-- with it, and rows older than the usage window are pruned. It has no
-- foreign key, so that a batch naming a token deleted meanwhile still
-- commits.
CREATE TABLE token_usage (
	token_id TEXT NOT NULL,
	hour     INTEGER NOT NULL,
	uses     INTEGER NOT NULL,
	PRIMARY KEY (token_id, hour)
) STRICT;

CREATE INDEX token_usage_hour ON token_usage (hour);
