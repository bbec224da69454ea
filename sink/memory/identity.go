package memory

import "github.com/pagekit/pagekit/paginate"

// Identity names the sink's table, which checkpoints carry (see
// [paginate.Identity]) and which names the stream when
// paginate.Options.Stream is empty.
func (s *Sink[T]) Identity() paginate.Identity {
	return paginate.Identity{"table": s.table}
}
