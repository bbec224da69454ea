package detect

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/spec"
)

// mockStyles are the mock API's pagination styles, each with the paging
// and response detect should propose for it.
var mockStyles = []struct {
	path     string
	paging   spec.Paging
	response spec.Response
	method   string
}{
	{mockapi.PathPageNumber, spec.Paging{Strategy: spec.PageNumber, PagePath: "page"},
		spec.Response{ItemsPath: "data", TotalPagesPath: "total_pages", TotalItemsPath: "total_items"}, ""},
	{mockapi.PathOffset, spec.Paging{Strategy: spec.Offset}, spec.Response{ItemsPath: "data", TotalItemsPath: "total"}, ""},
	{mockapi.PathNextPageURL, spec.Paging{Strategy: spec.NextToken, NextURLPath: "next_page_url", ByPosition: true},
		spec.Response{ItemsPath: "data", TotalItemsPath: "total_items"}, ""},
	{mockapi.PathNextToken, spec.Paging{Strategy: spec.NextToken, TokenPath: "next_token", TokenParam: "next_token"},
		spec.Response{ItemsPath: "data"}, ""},
	{mockapi.PathLinkHeader, spec.Paging{Strategy: spec.NextToken, LinkRel: "next", ByPosition: true},
		spec.Response{TotalItemsHeader: "X-Total-Count"}, ""},
	{mockapi.PathLinkRelative, spec.Paging{Strategy: spec.NextToken, LinkRel: "next", ByPosition: true},
		spec.Response{TotalItemsHeader: "X-Total-Count"}, ""},
	{mockapi.PathStartingAfter, spec.Paging{Strategy: spec.Cursor, CursorParam: "starting_after", CursorField: "id"},
		spec.Response{ItemsPath: "data", HasMorePath: "has_more"}, ""},
	{mockapi.PathJSONServer + "?_page=1", spec.Paging{Strategy: spec.NextToken, LinkRel: "next", ByPosition: true},
		spec.Response{TotalItemsHeader: "X-Total-Count"}, ""},
	{mockapi.PathJSONServerV1 + "?_page=1", spec.Paging{Strategy: spec.PageNumber, PageParam: "_page"},
		spec.Response{ItemsPath: "data", TotalPagesPath: "last", TotalItemsPath: "items"}, ""},
	{mockapi.PathSearch, spec.Paging{Strategy: spec.NextToken, TokenPath: "paging.next.after", TokenParam: "body:after"},
		spec.Response{ItemsPath: "results", TotalItemsPath: "total"}, "POST"},
}

// TestMockStyles detects every pagination style of the mock API, checks
// the proposal, and that its YAML is a spec that loads.
func TestMockStyles(t *testing.T) {
	srv := httptest.NewServer(mockapi.New(mockapi.Config{Records: 95, Seed: 1}))
	defer srv.Close()
	for _, m := range mockStyles {
		t.Run(m.path, func(t *testing.T) {
			rep, err := Detect(context.Background(), srv.URL+m.path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			st := rep.Stream
			if diff := cmp.Diff(m.paging, st.Paging); diff != "" {
				t.Errorf("paging (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(m.response, st.Response); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			if st.Request.Method != m.method || rep.Confidence != High || len(rep.Ambiguous) > 0 || len(rep.Warnings) > 0 {
				t.Errorf("method %q, confidence %s (%s), ambiguous %q, warnings %q", st.Request.Method, rep.Confidence, rep.Why, rep.Ambiguous, rep.Warnings)
			}
			if diff := cmp.Diff([]string{"id"}, st.Table.PrimaryKey); diff != "" {
				t.Errorf("primary key (-want +got):\n%s", diff)
			}
			if rep.mark() != "updatedAt" {
				t.Errorf("incremental field %q, want updatedAt", rep.mark())
			}
			y, err := rep.YAML()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := spec.Parse("detected.yaml", y, func(string) (string, bool) { return "", false }); err != nil {
				t.Errorf("the proposal does not load: %v\n%s", err, y)
			}
		})
	}
}

// jsonRecords returns n JSON records from id first.
func jsonRecords(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"n%d"}`, first+i, first+i)
	}
	return b.String()
}

// TestAmbiguous checks that responses detect cannot tell apart say so,
// with the candidates.
func TestAmbiguous(t *testing.T) {
	pageOf := func(r *http.Request) int {
		for _, k := range []string{"cursor", "next_cursor", "token", "page_token"} {
			if v := r.URL.Query().Get(k); v != "" {
				n, _ := strconv.Atoi(strings.TrimPrefix(v, "p"))
				return n
			}
		}
		return 1
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string // in Report.Ambiguous
	}{
		{"two lists", func(w http.ResponseWriter, r *http.Request) {
			p := pageOf(r)
			fmt.Fprintf(w, `{"users":[%s],"admins":[%s],"next_cursor":"p%d"}`, jsonRecords(p*10, 10), jsonRecords(1000+p*10, 10), p+1)
		}, "records: the response holds several lists of objects: users (10), admins (10)"},
		{"two tokens", func(w http.ResponseWriter, r *http.Request) {
			p := pageOf(r)
			fmt.Fprintf(w, `{"data":[%s],"next_cursor":"p%d","page_token":"p%d"}`, jsonRecords(p*10, 10), p+1, p+1)
		}, "pagination: a next token (the next page's token at next_cursor, sent back as the query parameter next_cursor) works, " +
			"and so does a next token (the next page's token at page_token, sent back as the query parameter page_token); the first was taken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			rep, err := Detect(context.Background(), srv.URL+"/list", Options{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Confidence != Low || len(rep.Ambiguous) != 1 || !strings.HasPrefix(rep.Ambiguous[0], tt.want) {
				t.Errorf("confidence %s, ambiguous %q; want low and %q", rep.Confidence, rep.Ambiguous, tt.want)
			}
			y, _ := rep.YAML()
			if !strings.Contains(string(y), "# AMBIGUOUS: ") {
				t.Errorf("the spec does not say it is ambiguous:\n%s", y)
			}
		})
	}
}

// TestNotPaged checks a response with no sign of pages, and one whose
// records are not objects.
func TestNotPaged(t *testing.T) {
	srv := httptest.NewServer(mockapi.New(mockapi.Config{Records: 30, Seed: 1}))
	defer srv.Close()
	rep, err := Detect(context.Background(), srv.URL+mockapi.PathJSONServer, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Confidence != Medium || !strings.Contains(rep.Why, "has no Link header, next URL, token") {
		t.Errorf("confidence %s: %s", rep.Confidence, rep.Why)
	}
	if _, err := Detect(context.Background(), srv.URL+mockapi.PathIDs, Options{}); err == nil || !strings.Contains(err.Error(), "not objects") {
		t.Errorf("bare ids: %v", err)
	}
	if _, err := Detect(context.Background(), srv.URL+"/nowhere", Options{}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a 404: %v", err)
	}
}

// TestCredentials checks that a credential given as a header goes to the
// environment, never into the spec.
func TestCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret-token" || r.Header.Get("X-Api-Key") != "k3y" {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"data":[%s]}`, jsonRecords(1, 3))
	}))
	defer srv.Close()
	h := http.Header{"Authorization": {"Bearer s3cret-token"}, "X-Api-Key": {"k3y"}, "X-Tenant": {"acme"}}
	rep, err := Detect(context.Background(), srv.URL+"/items", Options{Header: h})
	if err != nil {
		t.Fatal(err)
	}
	y, _ := rep.YAML()
	for _, s := range []string{"s3cret-token", "k3y"} {
		if strings.Contains(string(y), s) {
			t.Errorf("the spec holds a credential:\n%s", y)
		}
	}
	for _, s := range []string{"bearer: ${API_TOKEN}", "X-Api-Key: ${X_API_KEY}", "X-Tenant: acme", "columns:\n        id: long"} {
		if !strings.Contains(string(y), s) {
			t.Errorf("the spec lacks %q:\n%s", s, y)
		}
	}
	if _, err := Detect(context.Background(), srv.URL+"/items", Options{}); err == nil || !strings.Contains(err.Error(), "-H 'Authorization") {
		t.Errorf("without credentials: %v", err)
	}
}

// TestTimestampToken checks that detect warns of a next token that is
// only the last record's updatedAt (the mock's keyset endpoint, whose
// scroll_param serves the records strictly after it): records that share
// it across a page boundary are skipped, so the proposal says so, in the
// spec too.
func TestTimestampToken(t *testing.T) {
	srv := httptest.NewServer(mockapi.New(mockapi.Config{Records: 120, Seed: 1}))
	defer srv.Close()
	rep, err := Detect(context.Background(), srv.URL+mockapi.PathKeyset, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stream.Paging.TokenPath != "scroll_param" || len(rep.Warnings) != 1 ||
		!strings.HasPrefix(rep.Warnings[0], "the next token is the last record's updatedAt: an API that serves the records after it skips those") {
		t.Errorf("token path %q, warnings %q", rep.Stream.Paging.TokenPath, rep.Warnings)
	}
	y, _ := rep.YAML()
	if !strings.Contains(string(y), "# WARNING: the next token is the last record's updatedAt") {
		t.Errorf("the spec does not warn:\n%s", y)
	}
}
