package duckdb

// SetAfterFlush makes s call f after each flush of an appender in a commit,
// with the rows of its run; an error from f fails the commit there.
func SetAfterFlush[T any](s *Sink[T], f func(rows int) error) { s.afterFlush = f }
