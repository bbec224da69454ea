//go:build unix

package parquet_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/parquet"
)

// holdEnv, in the environment, makes the test binary a process that takes
// the lock of the table in the directory it names, says so, and waits to
// be killed.
const holdEnv = "PAGEKIT_PARQUET_HOLD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(holdEnv); dir != "" {
		s, err := parquet.New(context.Background(), parquet.Dir(dir), usertest.Mapping("user"), parquet.Config[usertest.User]{})
		if err == nil {
			err = s.Lock(context.Background(), "user")
		}
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		bufio.NewReader(os.Stdin).ReadString('\n')
		return
	}
	os.Exit(m.Run())
}

// A table another process writes is refused, naming that process, until
// the process dies: a kill -9 releases the lock.
func TestLockAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "user")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdEnv+"="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the holder said %q", line)
	}
	s, err := parquet.New(ctx, parquet.Dir(dir), usertest.Mapping("user"), parquet.Config[usertest.User]{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Commit(ctx, usertest.Generate(3, 1), paginateCheckpoint("user", 2))
	var le *parquet.LockedError
	if !errors.As(err, &le) || !errors.Is(err, parquet.ErrLocked) || le.PID != cmd.Process.Pid {
		t.Fatalf("Commit to a table another process holds: %v, want a LockedError naming process %d", err, cmd.Process.Pid)
	}
	t.Log(err)
	cmd.Process.Kill()
	cmd.Wait()
	if err := s.Commit(ctx, usertest.Generate(3, 1), paginateCheckpoint("user", 2)); err != nil {
		t.Fatalf("Commit once the holder was killed: %v", err)
	}
}
