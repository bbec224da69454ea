package parquet

// SetBeforeManifest makes s call f after a commit's file is written and
// before its manifest is; an error from f fails the commit there.
func SetBeforeManifest[T any](s *Sink[T], f func() error) { s.beforeManifest = f }
