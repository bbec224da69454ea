package jsonl_test

import (
	"context"
	"os"
	"testing"

	"github.com/pagekit/pagekit/sink/jsonl"
)

// A Writer on a device that cannot be synced, such as /dev/null or a pipe
// (a connector writing to stdout), still writes.
func TestWriterOnUnsyncableFile(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := jsonl.New[map[string]int](f, jsonl.Config{}).Write(context.Background(), []map[string]int{{"a": 1}}); err != nil {
		t.Fatalf("Write to %s: %v", os.DevNull, err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() { buf := make([]byte, 64); _, _ = r.Read(buf) }()
	if err := jsonl.New[map[string]int](w, jsonl.Config{}).Write(context.Background(), []map[string]int{{"a": 1}}); err != nil {
		t.Fatalf("Write to a pipe: %v", err)
	}
	w.Close()
}
