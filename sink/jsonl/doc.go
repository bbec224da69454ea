// Package jsonl writes records as JSON Lines: one JSON document a line, to
// any io.Writer or to a file, optionally gzip-compressed, and keeps
// checkpoints in files that are replaced atomically.
//
// There are three parts:
//
//   - [Writer] is a [paginate.Sink] over an io.Writer. It writes each page,
//     then flushes and syncs the writer when it can (a *os.File is synced),
//     so that the runner saves a page's checkpoint only once the page is on
//     disk.
//   - [File] is a sink, a committer and a store in one: it appends pages to
//     a file and records, in a checkpoint file beside it, each stream's
//     checkpoint together with the length of the data file. After a crash
//     it cuts the data file back to that length, so a page is in the file
//     exactly once, even if the process died in the middle of writing it.
//   - [FileStore] is a [paginate.Store] that keeps one checkpoint file per
//     stream in a directory, for any sink.
//
// File and FileStore are also [paginate.KeyStore]s: they keep the keys of a
// sync in progress in a file beside the checkpoint, so that a sync that
// stops and resumes still sees the records the source moved meanwhile.
//
// Every checkpoint file is written atomically: to a temporary file in the
// same directory, synced, renamed over the old one, and the directory
// synced, so a crash leaves either the old checkpoint or the new one.
//
// With Config.Gzip each page is one complete gzip member. A gzip file may
// hold many members (RFC 1952), and gzip readers, Go's included, read them
// as one stream; cutting the file between members leaves it valid.
package jsonl
