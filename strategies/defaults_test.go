package strategies_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// TestDefaultParamRefused: the README's snippet, pointed at the mock API,
// sends the page size as "limit" (SizeParam's default), which the API
// refuses with a 400 naming it; the error says which setting sends it. A
// 400 that names a parameter the user named, or none, gets no such hint.
func TestDefaultParamRefused(t *testing.T) {
	srv := httptest.NewServer(mockapi.New(mockapi.Config{Records: 20}))
	defer srv.Close()
	type user struct{ ID string }
	run := func(pg paginate.Paginator[user]) error {
		_, err := paginate.Run(context.Background(), pg, new(paginate.MemorySink[user]), paginate.Options[user]{})
		return err
	}
	err := run(&strategies.PageNumber[user]{
		Request:  strategies.Request{URL: srv.URL + mockapi.PathPageNumber},
		Size:     50,
		Response: strategies.Shape[user]{ItemsPath: "data", TotalPagesPath: "total_pages"},
	})
	if err == nil || !strings.Contains(err.Error(), "Unexpected query parameters: limit") ||
		!strings.Contains(err.Error(), `the paginator sends "limit" by default, from SizeParam`) {
		t.Errorf("default SizeParam refused: %v", err)
	}

	// The page parameter's default, refused by a server that wants "p".
	strict := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error": "unknown parameter 'page'"}`))
	}))
	defer strict.Close()
	err = run(&strategies.PageNumber[user]{
		Request:   strategies.Request{URL: strict.URL},
		SizeParam: strategies.Query("per_page"),
		Size:      5,
		Response:  strategies.Shape[user]{ItemsPath: "data"},
	})
	if err == nil || !strings.Contains(err.Error(), `the paginator sends "page" by default, from PageNumber.PageParam`) {
		t.Errorf("default PageParam refused: %v", err)
	}

	// Named by the user: no hint.
	err = run(&strategies.PageNumber[user]{
		Request:   strategies.Request{URL: strict.URL},
		PageParam: strategies.Query("page"),
		SizeParam: strategies.Query("per_page"),
		Size:      5,
		Response:  strategies.Shape[user]{ItemsPath: "data"},
	})
	if err == nil || strings.Contains(err.Error(), "by default") {
		t.Errorf("a parameter the user named: %v", err)
	}
}
