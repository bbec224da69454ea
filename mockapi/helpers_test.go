package mockapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// get serves target on h in process and returns the recorded response.
func get(t testing.TB, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return w
}

// mustGet is get that fails the test unless the status is 200.
func mustGet(t testing.TB, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := get(t, h, target)
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: status %d, body %s", target, w.Code, w.Body)
	}
	return w
}

// decode decodes body into a T, rejecting unknown fields.
func decode[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %T from %.300s: %v", v, body, err)
	}
	return v
}

// topKeys returns the keys of the JSON object in body, in order.
func topKeys(t testing.TB, body []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("body %.100s does not start an object: %v %v", body, tok, err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// Reference orders, computed from Records independently of the server's
// indexes.

func byCreated(us []User) []User {
	us = slices.Clone(us)
	slices.SortFunc(us, func(a, b User) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return us
}

func reversed(us []User) []User {
	us = slices.Clone(us)
	slices.Reverse(us)
	return us
}

func since(us []User, t time.Time) []User {
	var out []User
	for _, u := range us {
		if !u.UpdatedAt.Before(t) {
			out = append(out, u)
		}
	}
	return out
}

func ids(us []User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

// Response shapes, for decoding with DisallowUnknownFields.

type pageNumberResp struct {
	Data       []User `json:"data"`
	Page       int    `json:"page"`
	PageSize   int    `json:"page_size"`
	TotalPages int    `json:"total_pages"`
	TotalItems int    `json:"total_items"`
}

type offsetResp struct {
	Data   []User `json:"data"`
	Offset int    `json:"offset"`
	Limit  int    `json:"limit"`
	Total  int    `json:"total"`
}

type nextPageURLResp struct {
	Data        []User  `json:"data"`
	TotalItems  int     `json:"total_items"`
	Page        int     `json:"page"`
	PerPage     int     `json:"per_page"`
	NextPageURL *string `json:"next_page_url"`
}

type keysetResp struct {
	Data        []User  `json:"data"`
	ScrollParam *string `json:"scroll_param"`
}

type nextTokenResp struct {
	Data      []User  `json:"data"`
	NextToken *string `json:"next_token"`
}

type startingAfterResp struct {
	Object  string `json:"object"`
	Data    []User `json:"data"`
	HasMore bool   `json:"has_more"`
	URL     string `json:"url"`
}

type jsonRaw = json.RawMessage

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// httpGet fetches url with c and returns the body of a 200 response.
func httpGet(t testing.TB, c *http.Client, url string) []byte {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, body %s", url, resp.StatusCode, body)
	}
	return body
}
