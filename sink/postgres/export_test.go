package postgres

import "math"

// SetAfterExec makes s call f after each data statement of a commit, with
// the number of rows it wrote; an error from f fails the commit there.
func SetAfterExec[T any](s *Sink[T], f func(rows int) error) { s.afterExec = f }

// SetCopy makes s upsert with COPY into a temporary table (on) or with
// pipelined array statements (off), whatever the size of a page.
func SetCopy[T any](s *Sink[T], on bool) {
	s.copyRows = math.MaxInt
	if on {
		s.copyRows = 0
	}
}

// Retained returns how many extracted values and bytes of encoded rows s
// keeps between pages.
func Retained[T any](s *Sink[T]) (values, bytes int) { return s.b.Retained(), cap(s.buf) }
