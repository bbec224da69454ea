//go:build unix

package parquet

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lockFile takes an exclusive flock of the file at path without waiting,
// and writes this process's id into it so that a refused writer can name
// the holder. A flock belongs to an open file, so a second Sink of this
// process is refused too; the system drops it when the process ends.
func lockFile(path, table string) (func() error, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
			return nil, &LockedError{Path: table, PID: pid}
		}
		return nil, err
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f.Close, nil // closing the file drops the lock
}
