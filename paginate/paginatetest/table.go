package paginatetest

import (
	"cmp"
	"context"
	"maps"
	"net/http"
	"slices"
	"sync"

	"github.com/pagekit/pagekit/paginate"
)

// table is a keyed sink, as a database table with a primary key is. It
// remembers the order keys first arrived in and every key delivered again.
type table[T any] struct {
	key   func(T) string
	rows  map[string]T
	order []string
	twice []string
}

func newTable[T any](key func(T) string) *table[T] {
	return &table[T]{key: key, rows: make(map[string]T)}
}

func (tb *table[T]) sink() paginate.Sink[T] {
	return paginate.SinkFunc[T](func(_ context.Context, items []T) error {
		tb.upsert(items)
		return nil
	})
}

// crashAfter is a sink that accepts k pages, then fails as a crashed
// process would, before writing anything of page k+1.
func (tb *table[T]) crashAfter(k int) paginate.Sink[T] {
	n := 0
	return paginate.SinkFunc[T](func(_ context.Context, items []T) error {
		if n++; n > k {
			return errCrash
		}
		tb.upsert(items)
		return nil
	})
}

func (tb *table[T]) upsert(items []T) {
	for _, it := range items {
		k := tb.key(it)
		if _, ok := tb.rows[k]; ok {
			tb.twice = append(tb.twice, k)
		} else {
			tb.order = append(tb.order, k)
		}
		tb.rows[k] = it
	}
}

// row is one keyed row, for diffs that name the record.
type row[T any] struct {
	Key    string
	Record T
}

func (tb *table[T]) sorted() []row[T] {
	keys := slices.SortedFunc(maps.Keys(tb.rows), cmp.Compare[string])
	out := make([]row[T], len(keys))
	for i, k := range keys {
		out[i] = row[T]{k, tb.rows[k]}
	}
	return out
}

// counting counts the requests its handler serves and keeps a copy of the
// first, for the [Oracle].
type counting struct {
	h http.Handler

	mu    sync.Mutex
	n     int
	first *request
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.n++; c.n == 1 {
		c.first = snapshot(r)
	}
	c.mu.Unlock()
	c.h.ServeHTTP(w, r)
}

// reset forgets the requests counted so far.
func (c *counting) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n, c.first = 0, nil
}

func (c *counting) requests() (int, *request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, c.first
}
