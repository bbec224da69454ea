package mockapi

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// badRequest is a client error; its text is the "error" of a 400 response.
type badRequest string

func (e badRequest) Error() string { return string(e) }

// notFound is a request for a resource that does not exist, such as the
// orders of an unknown user; its text is the "error" of a 404 response.
type notFound string

func (e notFound) Error() string { return string(e) }

// params is a request's query, checked against what an endpoint accepts.
type params struct {
	q url.Values
}

// parseParams parses the query of u and rejects any parameter not in
// allowed, as the SDK example's server does.
func parseParams(u *url.URL, allowed ...string) (params, error) {
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return params{}, badRequest("Invalid query string: " + err.Error())
	}
	var unexpected []string
	for k := range q {
		if !slices.Contains(allowed, k) {
			unexpected = append(unexpected, k)
		}
	}
	if len(unexpected) > 0 {
		slices.Sort(unexpected)
		return params{}, badRequest("Unexpected query parameters: " + strings.Join(unexpected, ", "))
	}
	return params{q}, nil
}

// has reports whether the request set name.
func (p params) has(name string) bool {
	_, ok := p.q[name]
	return ok
}

// int returns the integer parameter name, def when absent, and an error
// when it is not an integer in lo..hi.
func (p params) int(name string, def, lo, hi int) (int, error) {
	if !p.has(name) {
		return def, nil
	}
	s := p.q.Get(name)
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, badRequest("Invalid " + name + ": " + strconv.Quote(s) + " is not an integer")
	}
	if v < lo || v > hi {
		if hi == math.MaxInt {
			return 0, badRequest("Invalid " + name + ": must be " + strconv.Itoa(lo) + " or more")
		}
		return 0, badRequest("Invalid " + name + ": must be between " + strconv.Itoa(lo) + " and " + strconv.Itoa(hi))
	}
	return v, nil
}

// since returns updated_since as Unix seconds, MinInt64 when absent.
func (p params) since() (int64, error) {
	if !p.has("updated_since") {
		return math.MinInt64, nil
	}
	t, ok := parseTime(p.q.Get("updated_since"))
	if !ok {
		return 0, badRequest("Invalid updated_since: must look like YYYY-MM-DDTHH:MM:SSZ")
	}
	return t, nil
}

// parseTime parses exactly "YYYY-MM-DDTHH:MM:SSZ" into Unix seconds.
func parseTime(s string) (int64, bool) {
	const layout = "2006-01-02T15:04:05Z"
	if len(s) != len(layout) {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		switch layout[i] {
		case '-', 'T', ':', 'Z':
			if s[i] != layout[i] {
				return 0, false
			}
		default:
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
		}
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return 0, false
	}
	return t.Unix(), true
}

// order returns order_by (true for createdAt) and order_type (true for
// desc).
func (p params) order() (byCreated, desc bool, err error) {
	switch p.q.Get("order_by") {
	case "createdAt":
		byCreated = true
	case "updatedAt":
	default:
		if p.has("order_by") {
			return false, false, badRequest("Invalid order_by: must be createdAt or updatedAt")
		}
	}
	switch p.q.Get("order_type") {
	case "desc":
		desc = true
	case "asc":
	default:
		if p.has("order_type") {
			return false, false, badRequest("Invalid order_type: must be asc or desc")
		}
	}
	return byCreated, desc, nil
}

// listQuery is the query of the endpoints that list records in a chosen
// order: page_number, offset, next_page_url and link_header.
type listQuery struct {
	byCreated, desc bool
	since           int64
	sinceSet        bool
	size            int // records a page, as asked
	start           int // page number, or offset
}

// list parses a listing query whose size parameter is sizeName (per_page
// or limit) and whose start parameter is startName (page or offset).
func (p params) list(sizeName, startName string, maxSize int) (listQuery, error) {
	var q listQuery
	var err error
	if q.byCreated, q.desc, err = p.order(); err != nil {
		return q, err
	}
	if q.since, err = p.since(); err != nil {
		return q, err
	}
	q.sinceSet = p.has("updated_since")
	if q.size, err = p.int(sizeName, 10, 1, maxSize); err != nil {
		return q, err
	}
	if startName == "page" {
		q.start, err = p.int("page", 1, 1, math.MaxInt)
	} else {
		q.start, err = p.int("offset", 0, 0, math.MaxInt)
	}
	return q, err
}
