-- changes_pruned holds, in its one row, the highest sequence number pruned
-- from the change feed (0 before the first prune). Pruning deletes the
-- oldest entries and raises it in the same transaction, so that a follower
-- whose position is below it knows it has missed entries. Sequence numbers
-- may have gaps (on PostgreSQL a rolled-back append spends one), so the
-- oldest entry left cannot tell it.
CREATE TABLE changes_pruned (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	seq BIGINT NOT NULL
);

INSERT INTO changes_pruned (id, seq) VALUES (1, 0);
