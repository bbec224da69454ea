//go:build !unix

package parquet

import (
	"os"
	"sync"
)

// Without flock, the lock keeps out the other Sinks of this process only.
var (
	lockMu sync.Mutex
	locked = make(map[string]bool)
)

func lockFile(path, table string) (func() error, error) {
	lockMu.Lock()
	defer lockMu.Unlock()
	if locked[path] {
		return nil, &LockedError{Path: table, PID: os.Getpid()}
	}
	locked[path] = true
	return func() error {
		lockMu.Lock()
		defer lockMu.Unlock()
		delete(locked, path)
		return nil
	}, nil
}
