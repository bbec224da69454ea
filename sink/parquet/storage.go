package parquet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Storage holds the files of one table: its Parquet files and its
// manifest. [Dir] is a directory of the local file system. The sink
// reaches files only through this interface, so that an object store (S3,
// GCS, Azure Blob) can hold a table without a change to the sink: an
// implementation needs objects written whole (an upload that fails leaves
// nothing under the name), a conditional put for the manifest (Replace
// must never let two writers both win: S3's If-Match or If-None-Match,
// GCS's ifGenerationMatch), a listing, and a lease for the writer's lock.
type Storage interface {
	// Create returns a writer of a new file. The file appears under name
	// only when Close returns nil, whole and durable: a reader never sees
	// part of it, and a crash before Close leaves at most a temporary
	// object that List does not return.
	Create(ctx context.Context, name string) (io.WriteCloser, error)
	// Open returns the file name for reading.
	Open(ctx context.Context, name string) (File, error)
	// Replace makes data the content of name in one atomic step: a reader
	// sees the old content or the new, never a mix, and the new content is
	// durable when Replace returns.
	Replace(ctx context.Context, name string, data []byte) error
	// Read returns the content of name, or an error wrapping
	// fs.ErrNotExist.
	Read(ctx context.Context, name string) ([]byte, error)
	// List returns the names of the table's files, temporary ones
	// included, in any order.
	List(ctx context.Context) ([]string, error)
	// Remove removes name; a name that does not exist is not an error.
	Remove(ctx context.Context, name string) error
	// Lock takes the table's writer lock without waiting: it returns
	// unlock, or a *LockedError when another writer holds it. The lock
	// must end with its holder's process, a kill -9 included (a lease
	// that expires, on an object store).
	Lock(ctx context.Context) (unlock func() error, err error)
}

// File is a file of a [Storage] opened for reading.
type File interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// Dir returns the Storage of the directory path, which is created when a
// sink first writes to it. Create writes a temporary file, syncs it and
// renames it; Replace does the same, then syncs the directory.
func Dir(path string) Storage { return dir(path) }

type dir string

// tmpPrefix starts the names of files being written.
const tmpPrefix = ".tmp-"

func (d dir) path(name string) string { return filepath.Join(string(d), name) }

func (d dir) mkdir() error { return os.MkdirAll(string(d), 0o755) }

func (d dir) Create(_ context.Context, name string) (io.WriteCloser, error) {
	if err := d.mkdir(); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(string(d), tmpPrefix+"*-"+name)
	if err != nil {
		return nil, err
	}
	return &newFile{f: f, final: d.path(name)}, nil
}

// newFile is a file of Dir being written under a temporary name.
type newFile struct {
	f     *os.File
	final string
}

func (w *newFile) Write(p []byte) (int, error) { return w.f.Write(p) }

func (w *newFile) Close() error {
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.f.Name(), w.final)
	}
	if err != nil {
		os.Remove(w.f.Name())
	}
	return err
}

type osFile struct {
	*os.File
	size int64
}

func (f osFile) Size() int64 { return f.size }

func (d dir) Open(_ context.Context, name string) (File, error) {
	f, err := os.Open(d.path(name))
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return osFile{f, fi.Size()}, nil
}

func (d dir) Replace(_ context.Context, name string, data []byte) error {
	if err := d.mkdir(); err != nil {
		return err
	}
	var r [8]byte
	rand.Read(r[:])
	tmp := d.path(tmpPrefix + hex.EncodeToString(r[:]) + "-" + name)
	if err := writeSynced(tmp, data); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, d.path(name)); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(string(d))
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (d dir) Read(_ context.Context, name string) ([]byte, error) {
	return os.ReadFile(d.path(name))
}

func (d dir) List(context.Context) ([]string, error) {
	es, err := os.ReadDir(string(d))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range es {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func (d dir) Remove(_ context.Context, name string) error {
	err := os.Remove(d.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func (d dir) Lock(context.Context) (func() error, error) {
	if err := d.mkdir(); err != nil {
		return nil, err
	}
	return lockFile(d.path(lockName), string(d))
}

// lockName is the file of Dir's writer lock.
const lockName = "_pagekit.lock"

func (d dir) String() string { return string(d) }

// ErrLocked reports a table that another writer holds: another process,
// or another Sink of this one. errors.Is(err, ErrLocked) is true for a
// *LockedError.
var ErrLocked = errors.New("parquet: table is locked by another writer")

// LockedError is the error for a table that another writer holds.
type LockedError struct {
	// Path names the table's storage, such as its directory.
	Path string
	// PID is the process that holds the lock, when known, else 0.
	PID int
}

func (e *LockedError) Error() string {
	s := fmt.Sprintf("parquet: table %s is locked by another writer", e.Path)
	switch {
	case e.PID == os.Getpid():
		s += " (another Sink of this process)"
	case e.PID > 0:
		s += fmt.Sprintf(" (process %d)", e.PID)
	}
	return s
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

func isTemp(name string) bool { return strings.HasPrefix(name, tmpPrefix) }
