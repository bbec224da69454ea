package strategies

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/pagekit/pagekit/paginate"
)

// state is what a strategy compiles from its configuration on first use.
type state[T any] struct {
	c   *client
	pl  *plan
	src *source[T]
	// defaults are the parameters sent under a name the user did not
	// give, for the message of a request the API refuses because of one.
	defaults []defaulted
}

// defaulted is a parameter the strategy named by default, and the setting
// that names it.
type defaulted struct{ name, setting string }

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
		st.explain(err)
		return nil, Response[T]{}, err
	}
	r, err := st.src.read(resp, br, sizeHint)
	return resp, r, err
}

// parts are the settings every strategy has, for the code they share.
type parts[T any] struct {
	req       *Request
	shape     *Shape[T]
	win       *Window[T]
	lim       *Limits
	size      int
	sizeParam Param
}

// params returns the placements of the window's bounds and of the size,
// with their defaults, for the strategy to add its own.
func (pt parts[T]) params() (p [numRoles]Param) {
	p[roleSince], p[roleUntil] = pt.win.SinceParam, pt.win.UntilParam
	p[roleSize] = pt.sizeParam.or(Query("limit"))
	return p
}

// sizeValue returns the page size to send, or "" for none.
func (pt parts[T]) sizeValue() string {
	if pt.size <= 0 {
		return ""
	}
	return strconv.Itoa(pt.size)
}

// compileState compiles the plan of params (by role, defaults resolved)
// and the source of a strategy.
func compileState[T any](pt parts[T], params [numRoles]Param, numbers [numRoles]bool, extra Where,
	page, next, nextHeader, linkRel string) (*state[T], error) {
	if pt.size < 0 {
		return nil, fmt.Errorf("%w: Size must not be negative", ErrConfig)
	}
	if err := pt.win.check(); err != nil {
		return nil, err
	}
	pl, err := pt.req.compilePlan(pt.lim, params, numbers, extra)
	if err != nil {
		return nil, err
	}
	src, err := pt.shape.source(page, next, nextHeader, linkRel)
	if err != nil {
		return nil, err
	}
	st := &state[T]{c: pl.c, pl: pl, src: src}
	if pt.sizeParam.Name == "" && params[roleSize].sent() {
		st.defaults = append(st.defaults, defaulted{params[roleSize].Name, "SizeParam"})
	}
	return st, nil
}

// byDefault notes that the strategy sends sent under the default name
// when the user's setting p names none.
func byDefault[T any](st *state[T], err error, p, sent Param, setting string) (*state[T], error) {
	if err == nil && p.Name == "" && sent.sent() {
		st.defaults = append(st.defaults, defaulted{sent.Name, setting})
	}
	return st, err
}

// explain adds to a 400 or 422 whose body names a query parameter the
// strategy sends under a default name which setting sends it: an API
// that refuses unknown parameters says "limit", and the user, who never
// wrote "limit", needs to know where it came from.
func (st *state[T]) explain(err error) {
	var herr *HTTPError
	if !errors.As(err, &herr) || herr.StatusCode != http.StatusBadRequest && herr.StatusCode != http.StatusUnprocessableEntity {
		return
	}
	for _, d := range st.defaults {
		if d.name != "" && mentions(herr.Body, d.name) {
			herr.hint = fmt.Sprintf("the paginator sends %q by default, from %s: set it to the API's name for the value, or to Param{In: Nowhere} to send none", d.name, d.setting)
			return
		}
	}
}

// mentions reports whether body has name as a word of its own.
func mentions(body []byte, name string) bool {
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte(name))
		if j < 0 {
			return false
		}
		j += i
		end := j + len(name)
		if (j == 0 || !isWordByte(body[j-1])) && (end == len(body) || !isWordByte(body[end])) {
			return true
		}
		i = j + 1
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
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
