//go:build unix

package sqlite

import (
	"errors"
	"os"
	"syscall"
)

// lockRange takes a write lock of the byte at off of f without waiting.
// It returns 0 when it got it, or the process that holds it.
func lockRange(f *os.File, off int64) (int, error) {
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: off, Len: 1}
	err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk)
	if err == nil {
		return 0, nil
	}
	if !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EACCES) {
		return 0, err
	}
	probe := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: off, Len: 1}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &probe); err == nil && probe.Type != syscall.F_UNLCK && probe.Pid > 0 {
		return int(probe.Pid), nil
	}
	return -1, nil // held, by a process the system does not name
}

func unlockRange(f *os.File, off int64) error {
	lk := syscall.Flock_t{Type: syscall.F_UNLCK, Whence: 0, Start: off, Len: 1}
	return syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk)
}
