package paginatetest

import (
	"context"
	"testing"
)

// testingT is what the suite needs of a test. [Suite.Run] passes a
// *testing.T through stdT; the kit's own tests pass a recorder, so that
// they check the suite's verdicts and messages in-process, without a
// child process per suite.
//
// As with testing.T, Fatalf and Skipf end the calling goroutine, and Run
// runs f in a goroutine of its own and waits for it.
type testingT interface {
	Helper()
	Context() context.Context
	Cleanup(f func())
	Error(args ...any) // for goleak.VerifyNone
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Skipf(format string, args ...any)
	Failed() bool
	Run(name string, f func(t testingT)) bool
}

// stdT is a *testing.T as a testingT.
type stdT struct{ *testing.T }

func (t stdT) Run(name string, f func(t testingT)) bool {
	return t.T.Run(name, func(t *testing.T) { f(stdT{t}) })
}
