package paginatetest_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate/paginatetest"
)

// TestReplayConcurrent: a request that arrives while the answer to be
// replayed is still being produced, as parallel fetches do, must get the
// replay, not a real answer.
func TestReplayConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var mu sync.Mutex
		calls := 0
		h := paginatetest.Replay(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			calls++
			n := calls
			mu.Unlock()
			if n == 1 {
				<-release // the answer to replay is slow
				w.Write([]byte("first"))
				return
			}
			w.Write([]byte("real"))
		}), 2)
		serve := func() *httptest.ResponseRecorder {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/items", nil))
			return rec
		}
		var bodies [2]string
		var wg sync.WaitGroup
		wg.Go(func() { bodies[0] = serve().Body.String() })
		synctest.Wait() // request 1 is being answered
		wg.Go(func() { bodies[1] = serve().Body.String() })
		synctest.Wait() // request 2 has arrived
		close(release)
		wg.Wait()
		if diff := cmp.Diff([2]string{"first", "first"}, bodies); diff != "" {
			t.Errorf("bodies of requests 1 and 2 (-want +got):\n%s", diff)
		}
	})
}
