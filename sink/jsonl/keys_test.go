package jsonl_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/jsonl"
)

func TestKeyStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.jsonl")
	var last *jsonl.File[usertest.User]
	usertest.CheckKeyStore(t, func() usertest.KeySink {
		if last != nil {
			last.Close() // as a process that ended would
		}
		f, err := jsonl.Open[usertest.User](path, jsonl.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		last = f
		return f
	})
}

// storeSink is a FileStore as usertest.CheckKeyStore uses a sink: a
// commit saves the checkpoint, its records go nowhere.
type storeSink struct{ *jsonl.FileStore }

func (s storeSink) Write(context.Context, []usertest.User) error { return nil }

func (s storeSink) Commit(ctx context.Context, _ []usertest.User, cp paginate.Checkpoint) error {
	return s.Save(ctx, cp)
}

func TestFileStoreKeyStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	usertest.CheckKeyStore(t, func() usertest.KeySink {
		return storeSink{&jsonl.FileStore{Dir: dir}} // a new one, as a new process's
	})
}

// TestKeysAfterACrash: the keys file of a process that died while it
// appended the keys of a page, or after it appended them but before the
// checkpoint that covers them was saved, holds more than the checkpoint
// covers. The next run gets the keys of the committed pages only, and the
// file is cut back to them, so that the pages it commits next are read
// back after them.
func TestKeysAfterACrash(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "users.jsonl")
	users := usertest.Generate(4, 3)
	f, err := jsonl.Open[usertest.User](path, jsonl.Config{})
	if err != nil {
		t.Fatal(err)
	}
	commit := func(f *jsonl.File[usertest.User], items int64, keys []uint64) {
		t.Helper()
		if err := f.SaveKeys(ctx, "u", items, keys); err != nil {
			t.Fatal(err)
		}
		cp := paginate.Checkpoint{Stream: "u", Position: paginate.Position{Page: items + 1}, Items: items}
		if err := f.Commit(ctx, users[items-2:items], cp); err != nil {
			t.Fatal(err)
		}
	}
	commit(f, 2, []uint64{1, 2})
	f.Close()
	keysPath := path + ".u.keys"
	committed, err := os.ReadFile(keysPath)
	if err != nil {
		t.Fatal(err)
	}
	entry := func(items int64, keys ...uint64) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(items))
		b = binary.LittleEndian.AppendUint64(b, uint64(len(keys)))
		for _, k := range keys {
			b = binary.LittleEndian.AppendUint64(b, k)
		}
		return b
	}
	for _, tc := range []struct {
		name  string
		after []byte // what the process wrote before it died
	}{
		{"a page whose checkpoint was not saved", entry(4, 3, 4)},
		{"a page torn in its keys", entry(4, 3, 4)[:30]},
		{"a page torn in its header", entry(4, 3, 4)[:11]},
		{"two pages, the second torn", append(entry(4, 3, 4), entry(6, 5, 6)[:20]...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(keysPath, append(slices.Clone(committed), tc.after...), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := jsonl.Open[usertest.User](path, jsonl.Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			keys, err := f.LoadKeys(ctx, "u", 2)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]uint64{1, 2}, keys); diff != "" {
				t.Errorf("keys of the resumed run (-want +got):\n%s", diff)
			}
			if b, _ := os.ReadFile(keysPath); !slices.Equal(b, committed) {
				t.Errorf("the keys file holds %d bytes after the load, want the %d of the committed page", len(b), len(committed))
			}
			// The run goes on: its next page's keys follow the first's.
			commit(f, 4, []uint64{7, 8})
			keys, err = f.LoadKeys(ctx, "u", 4)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(keys)
			if diff := cmp.Diff([]uint64{1, 2, 7, 8}, keys); diff != "" {
				t.Errorf("keys after the next page (-want +got):\n%s", diff)
			}
			// Back to the state after the first page, for the next case.
			if err := f.Commit(ctx, nil, paginate.Checkpoint{Stream: "u", Position: paginate.Position{Page: 3}, Items: 2}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestFileRunKeepsTheKeys runs a sync by page number with TrackKeys into a
// File, and into a Writer with a FileStore, stops it after two pages of
// three, moves a record of the first page to the end (which shifts a
// record of page 3 onto page 2, past the resumed run), and resumes it from
// a new File or FileStore, as a new process would. The resumed run must
// know the moved record as one committed before the stop (a duplicate),
// not count the sync as drifted for want of the keys (DriftResume), and
// the completed sync leaves no keys file behind.
func TestFileRunKeepsTheKeys(t *testing.T) {
	type dest struct {
		sink  paginate.Sink[usertest.User]
		store paginate.Store
		close func()
	}
	for _, tc := range []struct {
		name string
		open func(t *testing.T, dir string) dest
	}{
		{"File", func(t *testing.T, dir string) dest {
			f, err := jsonl.Open[usertest.User](filepath.Join(dir, "users.jsonl"), jsonl.Config{})
			if err != nil {
				t.Fatal(err)
			}
			return dest{sink: f, close: func() { f.Close() }}
		}},
		{"FileStore", func(t *testing.T, dir string) dest {
			out, err := os.OpenFile(filepath.Join(dir, "users.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			return dest{sink: jsonl.New[usertest.User](out, jsonl.Config{}),
				store: &jsonl.FileStore{Dir: filepath.Join(dir, "state")}, close: func() { out.Close() }}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			users := usertest.Generate(30, 5)
			api := paginate.PaginatorFunc[usertest.User](func(_ context.Context, pos paginate.Position) (paginate.Page[usertest.User], error) {
				p := max(pos.Page, 1)
				lo, hi := int(p-1)*10, min(int(p)*10, len(users))
				return paginate.Page[usertest.User]{Items: slices.Clone(users[lo:hi]), More: hi < len(users), Next: paginate.Position{Page: p + 1}}, nil
			})
			opts := paginate.Options[usertest.User]{Stream: "users", Key: func(u usertest.User) string { return u.ID },
				Checks: paginate.Checks[usertest.User]{TrackKeys: true}, Limits: paginate.Limits{MaxPages: 2}}
			run := func() paginate.Result {
				t.Helper()
				d := tc.open(t, dir)
				defer d.close()
				opts.Store = d.store
				res, err := paginate.Run(ctx, api, d.sink, opts)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			if res := run(); res.Stop != paginate.StopMaxPages {
				t.Fatalf("first run stopped with %v, want %v", res.Stop, paginate.StopMaxPages)
			}
			moved := users[3]
			users = append(slices.Delete(users, 3, 4), moved)
			opts.Limits.MaxPages = 0
			res := run()
			var kinds []paginate.DriftKind
			for _, d := range res.Drifts {
				kinds = append(kinds, d.Kind)
			}
			if diff := cmp.Diff([]paginate.DriftKind{paginate.DriftDuplicate}, kinds); diff != "" {
				t.Errorf("drift of the resumed run (-want +got):\n%s", diff)
			}
			if !res.Resumed || !res.Stop.Complete() {
				t.Errorf("resumed %v, stop %v; want a resumed run that completes", res.Resumed, res.Stop)
			}
			keysFiles, err := filepath.Glob(filepath.Join(dir, "*", "*.keys"))
			if err != nil {
				t.Fatal(err)
			}
			top, _ := filepath.Glob(filepath.Join(dir, "*.keys"))
			if files := append(keysFiles, top...); len(files) > 0 {
				t.Errorf("keys files left after the sync completed: %q", files)
			}
			if _, err := os.Stat(filepath.Join(dir, "users.jsonl")); errors.Is(err, fs.ErrNotExist) {
				t.Error("no data file")
			}
		})
	}
}

// BenchmarkLoadKeys is what a resume costs a File: loading the keys of a
// sync stopped after 50,000 records in pages of 50.
func BenchmarkLoadKeys(b *testing.B) {
	ctx := b.Context()
	f, err := jsonl.Open[usertest.User](filepath.Join(b.TempDir(), "users.jsonl"), jsonl.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	const pages, size = 1000, 50
	keys := make([]uint64, size)
	for p := 1; p <= pages; p++ {
		for i := range keys {
			keys[i] = uint64(p*size + i)
		}
		if err := f.SaveKeys(ctx, "user", int64(p*size), keys); err != nil {
			b.Fatal(err)
		}
		if err := f.Save(ctx, paginate.Checkpoint{Stream: "user", Position: paginate.Position{Page: int64(p + 1)}, Items: int64(p * size)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		got, err := f.LoadKeys(ctx, "user", pages*size)
		if err != nil || len(got) != pages*size {
			b.Fatalf("LoadKeys: %d keys, %v", len(got), err)
		}
	}
}

// BenchmarkCommit is a File's commit of a page of 50 records, with the
// page's keys (a sync with TrackKeys) and without.
func BenchmarkCommit(b *testing.B) {
	users := usertest.Generate(50, 1)
	keys := make([]uint64, len(users))
	for i := range keys {
		keys[i] = uint64(i)
	}
	for _, withKeys := range []bool{false, true} {
		name := "plain"
		if withKeys {
			name = "keys"
		}
		b.Run(name, func(b *testing.B) {
			ctx := b.Context()
			f, err := jsonl.Open[usertest.User](filepath.Join(b.TempDir(), "users.jsonl"), jsonl.Config{})
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			n := int64(0)
			for b.Loop() {
				n += int64(len(users))
				if withKeys {
					if err := f.SaveKeys(ctx, "user", n, keys); err != nil {
						b.Fatal(err)
					}
				}
				if err := f.Commit(ctx, users, paginate.Checkpoint{Stream: "user", Position: paginate.Position{Page: n}, Items: n}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
