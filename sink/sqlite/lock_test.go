package sqlite_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/sqlite"
)

const lockChildEnv = "PAGEKIT_SQLITE_LOCK_CHILD"

// holdStream is the child process: it commits a page of stream "users"
// to the database at path, says so, and holds the stream until its stdin
// closes.
func holdStream(t *testing.T, path string) {
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := sqlite.New(context.Background(), db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cp := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}
	if err := s.Commit(context.Background(), usertest.Generate(5, 1), cp); err != nil {
		t.Fatal(err)
	}
	fmt.Println("holding")
	io.Copy(io.Discard, os.Stdin)
}

// startHolder starts a child process that holds stream "users" of the
// database at path; closing the returned writer lets it finish.
func startHolder(t *testing.T, path string) (*exec.Cmd, io.WriteCloser) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestTwoWritersAcrossProcesses$")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "holding" {
		t.Fatalf("child: %q, %v", line, err)
	}
	go io.Copy(io.Discard, stdout)
	return cmd, stdin
}

// TestTwoWritersAcrossProcesses: while one process writes stream "users"
// of a database file, another process is refused the stream (Load, Commit
// and a whole run), with an error naming the holder, yet may write other
// streams; a writer with Config.Wait gets the stream when the holder ends,
// and a holder killed with kill -9 leaves no lock behind.
func TestTwoWritersAcrossProcesses(t *testing.T) {
	if path := os.Getenv(lockChildEnv); path != "" {
		holdStream(t, path)
		return
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	child, release := startHolder(t, path)

	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := newSink(t, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
	var locked *sqlite.LockedError
	if _, _, err := s.Load(ctx, "users"); !errors.As(err, &locked) || !errors.Is(err, sqlite.ErrLocked) || locked.PID != child.Process.Pid {
		t.Fatalf("Load of a stream another process holds: error %v, want a *LockedError naming process %d", err, child.Process.Pid)
	}
	cp := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 1}}
	if err := s.Commit(ctx, usertest.Generate(3, 9), cp); !errors.Is(err, sqlite.ErrLocked) {
		t.Errorf("Commit: error %v, want ErrLocked", err)
	}
	api := paginate.PaginatorFunc[usertest.User](func(context.Context, paginate.Position) (paginate.Page[usertest.User], error) {
		t.Error("the run fetched a page of a stream it does not hold")
		return paginate.Page[usertest.User]{}, nil
	})
	if _, err := paginate.Run(ctx, api, s, paginate.Options[usertest.User]{Stream: "users"}); !errors.Is(err, sqlite.ErrLocked) {
		t.Errorf("Run: error %v, want ErrLocked", err)
	}
	if err := s.Commit(ctx, usertest.Generate(3, 9), paginate.Checkpoint{Stream: "orders"}); err != nil {
		t.Errorf("Commit of another stream: %v", err)
	}

	// A waiting writer gets the stream once the holder is done.
	waiter := newSink(t, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{Wait: true})
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := waiter.Lock(short, "users"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock with Wait, for 100ms: error %v, want the deadline", err)
	}
	done := make(chan error, 1)
	go func() { done <- waiter.Lock(ctx, "users") }()
	release.Close()
	if err := child.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Lock with Wait after the holder ended: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting writer never got the stream")
	}
	got, found, err := waiter.Load(ctx, "users")
	if err != nil || !found || got.Position.Page != 2 {
		t.Errorf("Load after taking over: %+v, %v, %v; want the holder's page 2", got, found, err)
	}
	waiter.Close()

	// A holder killed with kill -9 leaves no lock.
	child, _ = startHolder(t, path)
	if err := s.Lock(ctx, "users"); !errors.Is(err, sqlite.ErrLocked) {
		t.Fatalf("Lock while a new holder runs: %v, want ErrLocked", err)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	if err := s.Lock(ctx, "users"); err != nil {
		t.Errorf("Lock after the holder was killed: %v", err)
	}
}

// TestTwoSinksOfOneProcess: two sinks of one process exclude each other
// per stream too, and Unlock hands a stream over.
func TestTwoSinksOfOneProcess(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	a := newSink(t, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
	b := newSink(t, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
	if err := a.Lock(ctx, "users"); err != nil {
		t.Fatal(err)
	}
	var locked *sqlite.LockedError
	if err := b.Lock(ctx, "users"); !errors.As(err, &locked) || locked.PID != os.Getpid() {
		t.Fatalf("second sink's Lock: %v, want a *LockedError naming this process", err)
	}
	if err := b.Lock(ctx, "orders"); err != nil {
		t.Errorf("another stream: %v", err)
	}
	if err := a.Unlock(ctx, "users"); err != nil {
		t.Fatal(err)
	}
	if err := b.Lock(ctx, "users"); err != nil {
		t.Errorf("Lock after Unlock: %v", err)
	}
}
