package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// errorAt returns an error about the value at path in stream st (such
// as "response", "items_path"): an *Error with the file, line and column
// when the spec was read from a file, or else one that names the path.
func (s *Spec) errorAt(st *Stream, path []string, format string, args ...any) error {
	i := slices.IndexFunc(s.Streams, func(x Stream) bool { return x.Name == st.Name })
	full := append([]string{"streams", strconv.Itoa(i)}, path...)
	if s.doc == nil || i < 0 {
		return fmt.Errorf("%s: %s", pathString(full), fmt.Sprintf(format, args...))
	}
	return s.doc.errorAt(full, true, format, args...)
}

// firstPageError says where in the spec the cause of a first page's
// error is, when the spec can tell: an items_path the response does not
// have (with the fields its body starts with), a URL the API does not
// know, credentials it refuses.
func (s *Spec) firstPageError(st *Stream, err error) error {
	var herr *strategies.HTTPError
	if !errors.As(err, &herr) {
		return err
	}
	switch herr.StatusCode {
	case http.StatusNotFound, http.StatusGone:
		return s.errorAt(st, []string{"request", "url"}, "%v", err)
	case http.StatusUnauthorized, http.StatusForbidden:
		if st.Request.Auth != nil {
			return s.errorAt(st, []string{"request", "auth"}, "the API refused the credentials: %v", err)
		}
		return s.errorAt(st, []string{"request"}, "the API wants credentials (request.auth): %v", err)
	}
	if !errors.Is(err, strategies.ErrMissingField) {
		return err
	}
	msg := fmt.Sprintf("the first page (%s %s) has no %q", herr.Method, herr.URL, st.Response.ItemsPath)
	if fields := topFields(herr.Body); len(fields) > 0 {
		msg += "; its body starts with the fields " + strings.Join(fields, ", ")
	}
	return s.errorAt(st, []string{"response", "items_path"}, "%s", msg)
}

// topFields returns the names of the top-level fields of the JSON object
// that body starts with, as far as body goes.
func topFields(body []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var out []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			break
		}
		name, _ := t.(string)
		out = append(out, strconv.Quote(name))
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			break
		}
	}
	return out
}

// checkPage checks a first page against the spec: the records hold the
// primary key and the high-water field, and the totals the spec names
// came. It returns the first error, and warnings about what may be
// meant.
func (s *Spec) checkPage(st *Stream, page paginate.Page[Record]) (warnings []string, err error) {
	if len(page.Items) == 0 {
		return nil, nil
	}
	var names []string
	for name := range page.Items[0].Fields() {
		names = append(names, name)
	}
	fields := func(field string) string {
		msg := "the first record's fields: " + strings.Join(names, ", ")
		if m := closest(field, names); m != "" {
			msg = fmt.Sprintf("did you mean %s? %s", m, msg)
		}
		return msg
	}
	missing := func(field string) int {
		for i, r := range page.Items {
			if v, ok := r.Raw(field); !ok || string(v) == "null" {
				return i
			}
		}
		return -1
	}
	for _, k := range st.Table.PrimaryKey {
		if i := missing(k); i >= 0 {
			return nil, s.errorAt(st, []string{"table", "primary_key"},
				"record %d of the first page has no %q, a field of the primary key; %s", i, k, fields(k))
		}
	}
	if hw := st.Options.HighWater; hw != "" {
		if i := missing(hw); i >= 0 {
			return nil, s.errorAt(st, []string{"options", "high_water"},
				"record %d of the first page has no %q, the high-water field; %s", i, hw, fields(hw))
		}
	}
	r := st.Response
	if r.TotalItemsPath != "" && page.TotalItems == 0 {
		warnings = append(warnings, s.errorAt(st, []string{"response", "total_items_path"},
			"the first page gave no total at %q: the total is unknown", r.TotalItemsPath).Error())
	}
	if r.TotalPagesPath != "" && page.TotalPages == 0 {
		warnings = append(warnings, s.errorAt(st, []string{"response", "total_pages_path"},
			"the first page gave no total at %q: the total is unknown", r.TotalPagesPath).Error())
	}
	return warnings, nil
}
