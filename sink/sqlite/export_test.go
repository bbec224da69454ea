package sqlite

// SetAfterExec makes s call f after each data statement of a commit, with
// the number of rows it wrote; an error from f fails the commit there.
func SetAfterExec[T any](s *Sink[T], f func(rows int) error) { s.afterExec = f }

// Retained returns how many extracted values s keeps between pages.
func Retained[T any](s *Sink[T]) int { return s.b.Retained() }

// Ping is ping: it opens db's first connection, trying again while SQLite
// refuses it with SQLITE_BUSY.
var Ping = ping
