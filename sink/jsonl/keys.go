package jsonl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/pagekit/pagekit/sink/internal/keypage"
)

// The keys of a stream's sync in progress (see paginate.KeyStore) are kept
// in a file of their own, one entry a page appended in the order of the
// pages: the records the sync had committed with the page (8 bytes), the
// number of keys (8 bytes), then the key hashes, 8 bytes each, all
// little-endian. SaveKeys holds a page's keys in memory until the stream's
// next checkpoint is saved; the entries are written and synced before
// that checkpoint, so a page's keys are durable once its checkpoint is.
//
// The file is never rewritten in place. An entry of a page whose
// checkpoint was not saved (the commit failed, or the process died before
// it) carries more records than the checkpoint, and LoadKeys, which a run
// calls with the checkpoint's Items before it commits anything, cuts the
// file back before it: to the end of the last entry within the
// checkpoint, which also drops a torn entry at the end.

// keysHeader is the length of an entry before its keys.
const keysHeader = 16

// appendKeys appends the entries of pages to the file at path, creating
// it, and syncs it. On an error the file is cut back to where it ended.
// The directory entry of a new file is made durable by the checkpoint
// file's rename, in the same directory, that follows.
func appendKeys(path string, pages []keypage.Page) (err error) {
	if len(pages) == 0 {
		return nil
	}
	n := 0
	for _, p := range pages {
		n += keysHeader + len(p.Keys)
	}
	b := make([]byte, 0, n)
	for _, p := range pages {
		b = binary.LittleEndian.AppendUint64(b, uint64(p.Items))
		b = binary.LittleEndian.AppendUint64(b, uint64(len(p.Keys)/8))
		b = append(b, p.Keys...)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if err != nil {
		if terr := f.Truncate(end); terr != nil {
			err = errors.Join(err, terr)
		}
	}
	return err
}

// loadKeys returns the keys of the entries of the file at path saved with
// at most upTo records, and cuts the file back to the end of the last of
// them; with upTo 0 it removes the file.
func loadKeys(path string, upTo int64) ([]uint64, error) {
	if upTo <= 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keys []uint64
	end := 0
	for end+keysHeader <= len(b) {
		items := int64(binary.LittleEndian.Uint64(b[end:]))
		n := binary.LittleEndian.Uint64(b[end+8:])
		if items > upTo || n > uint64(len(b)-end-keysHeader)/8 {
			break
		}
		next := end + keysHeader + int(n)*8
		if keys, err = keypage.Decode(keys, b[end+keysHeader:next]); err != nil {
			return nil, err
		}
		end = next
	}
	if end < len(b) {
		if err := cut(path, int64(end)); err != nil {
			return nil, fmt.Errorf("forget the keys of pages not committed: %w", err)
		}
	}
	return keys, nil
}

// cut truncates the file at path to size and syncs it.
func cut(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
