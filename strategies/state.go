package strategies

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/pagekit/pagekit/paginate"
)

// state is what a strategy compiles from its configuration on first use.
type state[T any] struct {
	c   *client
	src *source[T]
}

// lazy compiles a strategy's state once, on first use, so that a
// configuration literal needs no constructor.
type lazy[T any] struct {
	once sync.Once
	st   *state[T]
	err  error
}

func (l *lazy[T]) get(compile func() (*state[T], error)) (*state[T], error) {
	l.once.Do(func() {
		l.st, l.err = compile()
		if l.err != nil {
			l.err = paginate.Permanent(l.err)
		}
	})
	return l.st, l.err
}

// since returns the incremental lower bound to send: the position's, or the
// configured default when the position has none.
func since(pos paginate.Position, def string) string {
	if pos.Since != "" {
		return pos.Since
	}
	return def
}

// responseError wraps an error about a response that was read without
// fault, such as a page mismatch, with the request's description.
func responseError(resp *http.Response, err error) error {
	return paginate.Permanent(newHTTPError(resp.Request, resp, err))
}

func badPosition(kind string, pos paginate.Position) error {
	return paginate.Permanent(fmt.Errorf("%w: a %s paginator cannot start at %v", ErrBadPosition, kind, pos))
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }
