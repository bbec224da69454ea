package riverjob_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/riverjob"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// TestListedWhileRunning lists a user whose orders partition's job is
// still running, having read the user's orders before the listing: the
// change that made the list list the user may have come after that read,
// so the partition must run again once that job has ended, from its
// checkpoint. A user's partition job is held after the API answered its
// request, and a list job lists the user again (at the list's mark) while
// it is; some read of the user's orders must then come after the listing.
func TestListedWhileRunning(t *testing.T) { both(t, testListedWhileRunning, testListedWhileRunning) }

func testListedWhileRunning[TTx any](t *testing.T, b *backend[TTx]) {
	ctx := context.Background()
	a := newAPI(t)
	s := start(t, b, a, nil)
	if _, err := s.jobs.Enqueue(ctx, s.client, "shop"); err != nil {
		t.Fatal(err)
	}
	s.wait(t, time.Minute)

	u := a.Update(1)[0].ID
	var mu sync.Mutex
	var reads []time.Time
	held, release := make(chan struct{}), make(chan struct{})
	a.set(func(a *api) {
		a.afterRead = func(r *http.Request) {
			if r.URL.Path != mockapi.OrdersPath(u) {
				return
			}
			mu.Lock()
			reads = append(reads, time.Now())
			first := len(reads) == 1
			mu.Unlock()
			if first {
				close(held)
				<-release
			}
		}
	})
	if _, err := s.jobs.Enqueue(ctx, s.client, "shop", "orders"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held:
	case <-time.After(time.Minute):
		t.Fatal("the changed user's partition did not read its orders")
	}
	s.waitLists(t, 2)
	// The user is at the list's mark: the next list lists it again,
	// while its partition's job runs.
	listed := time.Now()
	if _, err := s.jobs.Enqueue(ctx, s.client, "shop", "orders"); err != nil {
		t.Fatal(err)
	}
	s.waitLists(t, 3)
	close(release)
	jobs := s.wait(t, time.Minute)
	reruns := 0
	for _, j := range jobs {
		if j.State != rivertype.JobStateCompleted {
			t.Errorf("job %s: %s, errors %v", jobKey(t, j), j.State, j.Errors)
		}
		if j.Kind == riverjob.KindRerun {
			reruns++
			if jobKey(t, j) != riverjob.KindRerun+" orders/"+u {
				t.Errorf("a rerun of %s, want of the held user's orders", jobKey(t, j))
			}
		}
		if j.Kind == riverjob.KindList && output(t, j)["reruns"] != nil && output(t, j)["reruns"] != float64(1) {
			t.Errorf("a list job's output %v, want 1 rerun at most", output(t, j))
		}
	}
	if reruns != 1 {
		t.Errorf("%d rerun jobs, want 1", reruns)
	}
	mu.Lock()
	defer mu.Unlock()
	after := 0
	for _, at := range reads {
		if at.After(listed) {
			after++
		}
	}
	if after == 0 {
		t.Errorf("the user's orders were read %d times, none after the list that listed the user while its partition ran: a change that made the list list it is lost", len(reads))
	}
}

// waitLists waits until n list jobs have completed.
func (s *shop[TTx]) waitLists(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		res, err := s.client.JobList(context.Background(), river.NewJobListParams().Kinds(riverjob.KindList).States(rivertype.JobStateCompleted).First(100))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d list jobs completed after a minute, want %d", len(res.Jobs), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
