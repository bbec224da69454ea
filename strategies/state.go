package strategies

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/pagekit/pagekit/paginate"
)

// state is what a strategy compiles from its configuration on first use.
type state[T any] struct {
	c   *client
	pl  *plan
	src *source[T]
}

// fetch builds the request of one fetch from the values by role (see
// plan.build), sends it, and reads the response. missing names the secret
// parameters of a next URL that Auth must set; sizeHint is the number of
// records expected.
func (st *state[T]) fetch(ctx context.Context, vals [numRoles]string, extra []kv, next string, missing []string, sizeHint int) (*http.Response, Response[T], error) {
	req, err := st.pl.build(vals, extra, next)
	if err != nil {
		return nil, Response[T]{}, paginate.Permanent(err)
	}
	req.missing = missing
	resp, br, err := st.c.send(ctx, req)
	if err != nil {
		return nil, Response[T]{}, err
	}
	r, err := st.src.read(resp, br, sizeHint)
	return resp, r, err
}

// compileState compiles the plan of params (by role, defaults resolved)
// and the source of a strategy.
func compileState[T any](h *HTTP, pg *Paging[T], params [numRoles]Param, numbers [numRoles]bool, extra Where,
	page, next, nextHeader, linkRel string) (*state[T], error) {
	if err := pg.check(); err != nil {
		return nil, err
	}
	pl, err := h.compilePlan(params, numbers, extra)
	if err != nil {
		return nil, err
	}
	src, err := pg.source(page, next, nextHeader, linkRel)
	if err != nil {
		return nil, err
	}
	return &state[T]{c: pl.c, pl: pl, src: src}, nil
}

// lazy compiles a strategy's state once, on first use, so that a
// configuration literal needs no constructor.
type lazy[T any] struct {
	once     sync.Once
	st       *state[T]
	raw, err error // the configuration error, and it marked permanent
}

func (l *lazy[T]) get(compile func() (*state[T], error)) (*state[T], error) {
	l.once.Do(func() {
		l.st, l.raw = compile()
		if l.raw != nil {
			l.err = paginate.Permanent(l.raw)
		}
	})
	return l.st, l.err
}

// validate compiles the state and returns its configuration error, for a
// strategy's Validate method.
func (l *lazy[T]) validate(compile func() (*state[T], error)) error {
	l.get(compile)
	return l.raw
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
