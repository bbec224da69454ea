package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRun starts the command on a free port, fetches a page, interrupts
// it and checks that it stops cleanly and reports what it served.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-records", "60", "-seed", "3", "-tie-groups", "10:5", "-v"}, outW, &stderr)
		outW.Close()
	}()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()

	first := <-lines
	_, base, ok := strings.Cut(first, "listening on ")
	if !ok || !strings.Contains(first, "60 records (seed 3") {
		t.Fatalf("first line %q does not say where it listens", first)
	}
	var endpoints []string
	for range 11 { // every endpoint is printed, one a line
		endpoints = append(endpoints, strings.TrimSpace(<-lines))
	}
	if endpoints[0] != base+"/pagination/page_number" {
		t.Errorf("first endpoint %q", endpoints[0])
	}

	resp, err := http.Get(endpoints[0] + "?per_page=50&page=2")
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Data       []json.RawMessage `json:"data"`
		TotalItems int               `json:"total_items"`
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	if err != nil || len(page.Data) != 10 || page.TotalItems != 60 {
		t.Fatalf("page 2: %d records of %d, %v", len(page.Data), page.TotalItems, err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run after interrupt: %v", err)
	}
	last := ""
	for l := range lines {
		last = l
	}
	if !strings.Contains(last, "stopped") || !strings.Contains(last, "Requests:1 OK:1") {
		t.Errorf("last line %q", last)
	}
	if !strings.Contains(stderr.String(), "GET /pagination/page_number?per_page=50&page=2 200") {
		t.Errorf("-v log %q lacks the request", stderr.String())
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-records", "-1"}, "Records -1"},
		{[]string{"-tie-groups", "3"}, `-tie-groups: "3" is not at:size`},
		{[]string{"-tie-groups", "190:20"}, "does not fit in 200 records"},
		{[]string{"-error-codes", "500,x"}, `-error-codes: "x" is not an integer`},
		{[]string{"-error-rate", "2"}, "ErrorRate 2 is outside 0..1"},
		{[]string{"-nope"}, "flag provided but not defined"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-addr", "256.0.0.1:0"}, "listen"},
	} {
		var stderr strings.Builder
		err := run(t.Context(), tc.args, io.Discard, &stderr)
		if err == nil || !strings.Contains(err.Error()+stderr.String(), tc.want) {
			t.Errorf("%q: error %v, want one with %q", tc.args, err, tc.want)
		}
	}
}
