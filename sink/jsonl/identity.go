package jsonl

import (
	"path/filepath"

	"github.com/pagekit/pagekit/paginate"
)

// Identity names the file by its base name, which checkpoints carry (see
// [paginate.Identity]) and which names the stream when
// paginate.Options.Stream is empty. Moving the file to another directory
// keeps its identity.
func (fl *File[T]) Identity() paginate.Identity {
	return paginate.Identity{"table": filepath.Base(fl.path)}
}
