-- Each write that appends to the change feed announces it on the channel
-- keyward_changes when its transaction commits (PostgreSQL delivers
-- notifications at commit, and none for a transaction rolled back), so
-- that nodes listening there read the feed at once rather than at their
-- next poll. One notification a statement: the payload is empty, since a
-- node reads every entry after the last it applied.
CREATE FUNCTION keyward_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('keyward_changes', '');
	RETURN NULL;
END
$$;

CREATE TRIGGER changes_notify AFTER INSERT ON changes
	FOR EACH STATEMENT EXECUTE FUNCTION keyward_notify_change();
