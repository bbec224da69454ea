package paginate_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/pagekit/pagekit/paginate"
)

// TestInterruptIsNotAnError: a run cancelled (Ctrl-C) ends with an INFO
// line, as asked; a run that fails ends with an ERROR line.
func TestInterruptIsNotAnError(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail error
		want string
	}{
		{"cancelled", nil, "level=INFO msg=\"paginate: run done\""},
		{"failed", paginate.Permanent(errors.New("boom")), "level=ERROR msg=\"paginate: run done\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			api := paginate.PaginatorFunc[int](func(ctx context.Context, pos paginate.Position) (paginate.Page[int], error) {
				if pos.Page >= 2 {
					if tc.fail != nil {
						return paginate.Page[int]{}, tc.fail
					}
					cancel()
					return paginate.Page[int]{}, ctx.Err()
				}
				return paginate.Page[int]{Items: []int{1}, More: true, Next: paginate.Position{Page: 2}}, nil
			})
			_, err := paginate.Run(ctx, api, new(paginate.MemorySink[int]), paginate.Options[int]{
				Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			})
			if err == nil {
				t.Fatal("the run did not fail")
			}
			if !strings.Contains(logs.String(), tc.want) {
				t.Errorf("want %s in:\n%s", tc.want, logs.String())
			}
		})
	}
}
