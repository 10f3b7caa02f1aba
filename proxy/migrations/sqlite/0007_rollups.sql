-- Rollups: the exact, mergeable figures (the shared crate's `Rollup`, postcard-encoded) of the
-- conversations whose first message falls in one UTC hour, day or month (`grain` 1, 2, 3), for
-- everyone (`*`), one agent (`a:<name>`) or one topic (`t:<label>`). Every transaction that
-- writes conversations updates the rollups of what it changed, so the metrics merge a few of
-- these rows instead of reading every conversation. The server fills the table from the stored
-- conversations once, at its first start on this version (`rollups_built`).
CREATE TABLE rollups (
    grain INTEGER NOT NULL,
    slice TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (grain, slice, start_ms)
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('rollups_built', 0);
