package jsonl_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/jsonl"
)

type rec struct {
	ID   int            `json:"id"`
	Text string         `json:"text"`
	Doc  map[string]any `json:"doc,omitempty"`
}

func collect[T any](t *testing.T, r io.Reader) []T {
	t.Helper()
	var out []T
	for v, err := range jsonl.Records[T](r) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestWriter(t *testing.T) {
	pages := [][]rec{
		{{ID: 1, Text: "line\nbreak <&>"}, {ID: 2, Doc: map[string]any{"a": []any{1.0}}}},
		{},
		{{ID: 3, Text: "ünïcode"}},
	}
	for _, tc := range []struct {
		name string
		cfg  jsonl.Config
		want string // the plain text, for uncompressed output
	}{
		{"plain", jsonl.Config{}, `{"id":1,"text":"line\nbreak <&>"}` + "\n" + `{"id":2,"text":"","doc":{"a":[1]}}` + "\n" + `{"id":3,"text":"ünïcode"}` + "\n"},
		{"gzip", jsonl.Config{Gzip: true}, ""},
		{"gzip best", jsonl.Config{Gzip: true, Level: gzip.BestCompression}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := jsonl.New[rec](&buf, tc.cfg)
			for _, p := range pages {
				if err := w.Write(context.Background(), p); err != nil {
					t.Fatal(err)
				}
			}
			if tc.want != "" {
				if diff := cmp.Diff(tc.want, buf.String()); diff != "" {
					t.Errorf("output (-want +got):\n%s", diff)
				}
			}
			if tc.cfg.Gzip {
				// One gzip member a non-empty page.
				if got := gzipMembers(t, buf.Bytes()); got != 2 {
					t.Errorf("%d gzip members, want 2", got)
				}
			}
			want := []rec{pages[0][0], pages[0][1], pages[2][0]}
			if diff := cmp.Diff(want, collect[rec](t, &buf)); diff != "" {
				t.Errorf("records read back (-want +got):\n%s", diff)
			}
		})
	}
}

// gzipMembers counts the gzip members of data.
func gzipMembers(t *testing.T, data []byte) int {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(data))
	zr, err := gzip.NewReader(br)
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; ; n++ {
		zr.Multistream(false)
		if _, err := io.Copy(io.Discard, zr); err != nil {
			t.Fatal(err)
		}
		if err := zr.Reset(br); err == io.EOF {
			return n
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

// syncWriter records the calls a Writer makes.
type syncWriter struct {
	calls []string
	fail  string
}

func (w *syncWriter) Write(b []byte) (int, error) {
	w.calls = append(w.calls, "write")
	return len(b), nil
}

func (w *syncWriter) Flush() error {
	w.calls = append(w.calls, "flush")
	if w.fail == "flush" {
		return errors.New("disk full")
	}
	return nil
}

func (w *syncWriter) Sync() error {
	w.calls = append(w.calls, "sync")
	if w.fail == "sync" {
		return errors.New("io error")
	}
	return nil
}

func TestWriterSyncs(t *testing.T) {
	for _, tc := range []struct {
		fail  string
		calls []string
		err   string
	}{
		{"", []string{"write", "flush", "sync"}, ""},
		{"flush", []string{"write", "flush"}, "jsonl: flush: disk full"},
		{"sync", []string{"write", "flush", "sync"}, "jsonl: sync: io error"},
	} {
		w := &syncWriter{fail: tc.fail}
		err := jsonl.New[rec](w, jsonl.Config{}).Write(context.Background(), []rec{{ID: 1}})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.err {
			t.Errorf("fail %q: error = %v, want %q", tc.fail, err, tc.err)
		}
		if diff := cmp.Diff(tc.calls, w.calls); diff != "" {
			t.Errorf("fail %q: calls (-want +got):\n%s", tc.fail, diff)
		}
	}
}

func TestFileCommitAndReopen(t *testing.T) {
	for _, cfg := range []jsonl.Config{{}, {Gzip: true}} {
		t.Run(fmt.Sprintf("gzip=%v", cfg.Gzip), func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "users.jsonl")
			users := usertest.Generate(30, 1)
			f, err := jsonl.Open[usertest.User](path, cfg)
			if err != nil {
				t.Fatal(err)
			}
			cp1 := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}
			cp2 := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 3}, HighWater: "x"}
			if err := f.Commit(ctx, users[:10], cp1); err != nil {
				t.Fatal(err)
			}
			if err := f.Commit(ctx, users[10:20], cp2); err != nil {
				t.Fatal(err)
			}
			f.Close()

			// A crash in the middle of the third page leaves part of it.
			var partial bytes.Buffer
			jsonl.New[usertest.User](&partial, cfg).Write(ctx, users[20:])
			appendFile(t, path, partial.Bytes()[:partial.Len()/2])

			f, err = jsonl.Open[usertest.User](path, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, found, err := f.Load(ctx, "users")
			if err != nil || !found {
				t.Fatalf("Load: %v, %v", found, err)
			}
			if diff := cmp.Diff(cp2, got); diff != "" {
				t.Errorf("checkpoint (-want +got):\n%s", diff)
			}
			// The half page is gone; the page written again goes in once.
			if err := f.Commit(ctx, users[20:], paginate.Checkpoint{Stream: "users"}); err != nil {
				t.Fatal(err)
			}
			read, err := jsonl.ReadFile[usertest.User](path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(users, read); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

func appendFile(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func TestFileKeepsForeignData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "out.jsonl")
	if err := os.WriteFile(path, []byte(`{"id":0,"text":"before"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := jsonl.Open[rec](path, jsonl.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Write(ctx, []rec{{ID: 1}}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got, err := jsonl.ReadFile[rec](path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]rec{{ID: 0, Text: "before"}, {ID: 1}}, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}

	// Cutting the data file behind the File's back is detected.
	if err := os.Truncate(path, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := jsonl.Open[rec](path, jsonl.Config{}); !errors.Is(err, jsonl.ErrDataChanged) {
		t.Errorf("Open of a shortened file: error = %v, want ErrDataChanged", err)
	}
}

func TestFileFailedCommitChangesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "out.jsonl")
	f, err := jsonl.Open[rec](path, jsonl.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cp := paginate.Checkpoint{Stream: "s", Position: paginate.Position{Offset: 1}}
	if err := f.Commit(ctx, []rec{{ID: 1}}, cp); err != nil {
		t.Fatal(err)
	}
	// The checkpoint file cannot be replaced: the page must not stay.
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if os.Getuid() == 0 {
		// root ignores directory permissions; replace the checkpoint
		// file with a directory instead.
		os.Chmod(dir, 0o700)
		os.Remove(jsonl.StatePath(path))
		if err := os.Mkdir(jsonl.StatePath(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(jsonl.StatePath(path), "x"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	err = f.Commit(ctx, []rec{{ID: 2}, {ID: 3}}, paginate.Checkpoint{Stream: "s", Position: paginate.Position{Offset: 3}})
	if err == nil {
		t.Fatal("Commit succeeded, want an error")
	}
	got, _, _ := f.Load(ctx, "s")
	if diff := cmp.Diff(cp, got); diff != "" {
		t.Errorf("checkpoint after a failed commit (-want +got):\n%s", diff)
	}
	read, err := jsonl.ReadFile[rec](path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]rec{{ID: 1}}, read); diff != "" {
		t.Errorf("records after a failed commit (-want +got):\n%s", diff)
	}
}

func TestFileRunResumes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "users.jsonl.gz")
	users := usertest.Generate(45, 2)
	run := func(failAt int64) ([]int64, error) {
		f, err := jsonl.Open[usertest.User](path, jsonl.Config{Gzip: true})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var fetched []int64
		api := paginate.PaginatorFunc[usertest.User](func(ctx context.Context, pos paginate.Position) (paginate.Page[usertest.User], error) {
			p := max(pos.Page, 1)
			fetched = append(fetched, p)
			if p == failAt {
				return paginate.Page[usertest.User]{}, paginate.Permanent(fmt.Errorf("page %d is down", p))
			}
			lo, hi := int(p-1)*10, min(int(p)*10, len(users))
			return paginate.Page[usertest.User]{Items: users[lo:hi], More: hi < len(users), Next: paginate.Position{Page: p + 1}}, nil
		})
		_, err = paginate.Run(ctx, api, f, paginate.Options[usertest.User]{Stream: "users"})
		return fetched, err
	}
	if _, err := run(3); err == nil {
		t.Fatal("first run succeeded, want the failure at page 3")
	}
	fetched, err := run(0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{3, 4, 5}, fetched); diff != "" {
		t.Errorf("second run fetched (-want +got):\n%s", diff)
	}
	read, err := jsonl.ReadFile[usertest.User](path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(users, read); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

func TestFileStore(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state")
	s := &jsonl.FileStore{Dir: dir}
	if _, found, err := s.Load(ctx, "users"); found || err != nil {
		t.Fatalf("Load of a new stream: %v, %v", found, err)
	}
	cps := []paginate.Checkpoint{
		{Stream: "users", Position: paginate.Position{Page: 4}, HighWater: "2024"},
		{Stream: "users", Position: paginate.Position{Page: 5}, HighWater: "2025"},
		{Stream: "../etc/passwd ünï", Position: paginate.Position{Token: "t"}},
	}
	for _, cp := range cps {
		if err := s.Save(ctx, cp); err != nil {
			t.Fatal(err)
		}
		got, found, err := s.Load(ctx, cp.Stream)
		if err != nil || !found {
			t.Fatalf("Load(%q): %v, %v", cp.Stream, found, err)
		}
		if diff := cmp.Diff(cp, got); diff != "" {
			t.Errorf("checkpoint (-want +got):\n%s", diff)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// No temporary files are left, and no name escapes the directory.
	if diff := cmp.Diff([]string{"%2E%2E%2Fetc%2Fpasswd%20%C3%BCn%C3%AF.json", "users.json"}, names); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if err := os.WriteFile(s.Path("bad"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Load(ctx, "bad"); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("Load of a corrupt file: error = %v, want one naming the file", err)
	}
}
