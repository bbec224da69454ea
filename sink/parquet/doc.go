// Package parquet is pagekit's data-lake sink: it keeps a table as
// immutable Parquet files, one written by each commit (a page, or a group
// of pages), and a small manifest that lists the committed files and holds
// the checkpoint of each stream written into the table. It uses
// github.com/parquet-go/parquet-go, which is pure Go.
//
// # Layout
//
// A table is a directory (or a prefix of an object store, see [Storage]):
//
//	lake/user/_manifest.json                                   the commit point
//	lake/user/00000000000000000001-<uuid>.parquet              commit 1
//	lake/user/00000000000000000002-<uuid>.parquet              commit 2
//	lake/user/_pagekit.lock                                    the writer's lock
//
// A commit writes its file (under a temporary name, synced, then renamed),
// then replaces the manifest in one atomic step (written, synced, renamed,
// the directory synced). The manifest is the commit point: the rows of a
// commit and its checkpoint are both in the table or neither is. A file
// the manifest does not list belongs to a commit that did not finish: it
// is not part of the table, readers must ignore it, and the next writer
// removes it when it takes the table's lock. So a reader reads the
// manifest, then the files it lists, never a glob of the directory.
//
// # Rows
//
// Each file has the table's columns and two of the sink's: _pagekit_op,
// "upsert" or "delete", and _pagekit_seq, the sequence number of the
// commit that wrote the row (also the first part of the file's name).
// A file holds at most one row per key, the key's last operation in that
// commit; a delete row has the key columns only. The current table is, of
// each key, the row with the largest _pagekit_seq, unless it is a delete.
// In DuckDB:
//
//	SET VARIABLE files = (
//	    SELECT list('lake/user/' || f.name)
//	    FROM (SELECT unnest(files) AS f FROM read_json('lake/user/_manifest.json')));
//	SELECT * EXCLUDE (_pagekit_op, _pagekit_seq)
//	FROM read_parquet(getvariable('files'), union_by_name = true)
//	QUALIFY row_number() OVER (PARTITION BY id ORDER BY _pagekit_seq DESC) = 1
//	    AND _pagekit_op = 'upsert';
//
// (union_by_name fills the columns that files written before a column was
// added lack with NULL.) [ReadTable] does the same in Go, for tests and
// small tables. [Sink.Compact] rewrites a table as one file of its current
// rows, atomically, so that readers scan one file again.
//
// Columns are typed from [schema.Table], all optional (NULL allowed):
//
//	STRING        BYTE_ARRAY, STRING
//	INT           INT32
//	LONG          INT64
//	DOUBLE        DOUBLE
//	BOOLEAN       BOOLEAN
//	DECIMAL       FIXED_LEN_BYTE_ARRAY(16), DECIMAL(38, Config.DecimalScale)
//	NAIVE_DATE    INT32, DATE
//	UTC_DATETIME  INT64, TIMESTAMP(MICROS, adjusted to UTC)
//	JSON          BYTE_ARRAY, JSON (the document's text)
//	BINARY        BYTE_ARRAY
//
// Files are compressed with Snappy. A row group holds up to 122,880 rows
// (Config.RowGroupRows), DuckDB's own row group size: a group commit's
// file is one row group, a compacted table several, which readers scan in
// parallel.
//
// # Guarantees and costs
//
// One process writes a table at a time ([Sink.Lock]); readers need no lock
// and see the table as of one commit. A commit costs a file and a
// manifest, each synced: group commit (paginate.Group) makes pages share
// them. The manifest lists every file, so it grows with the commits until
// Compact; each commit rewrites it. Schema changes: a column added to the
// mapping is added to the table (older files lack it); a changed type or
// key fails New with schema.ErrTableMismatch. Soft deletes are not
// supported: a delete is itself a row, so a reader that wants deleted rows
// finds their last version before the delete.
package parquet
