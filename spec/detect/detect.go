// Package detect infers a spec from one URL of a REST API: it fetches the
// first page, infers how the pages follow each other (a Link header, a
// next URL or token in the body, page numbers, offsets, a has-more flag
// with a cursor), where the records are, which field identifies them and
// which one tells when they changed, then fetches the second page the way
// it inferred and checks it: different records, none of the first page's,
// as many as the totals promise. The pagekit command's detect prints the
// result as a spec, with what it found, how sure it is and what it could
// not know as comments.
//
// It never guesses in silence: when a response holds two lists that could
// both be the records, or two ways to the next page that both work, the
// Report says so and names the candidates.
package detect

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/pagekit/pagekit/spec"
)

// Options configure [Detect]. The zero value sends GET requests with no
// headers of its own.
type Options struct {
	// Header is sent with every request, such as an Authorization header.
	// A header that holds a credential is left out of the spec, which
	// takes it from the environment instead.
	Header http.Header
	// Method is the first request's method. Empty means GET, and POST
	// with the body {} when the server refuses GET with 405.
	Method string
	// Body is the first request's JSON body, if any.
	Body []byte
	// Client sends the requests. Nil means a client with a 60-second
	// timeout.
	Client *http.Client
}

// Confidence says how sure detect is of the pagination it proposes.
type Confidence string

const (
	// High: the second page was fetched the way inferred, and it held
	// other records than the first, as many as expected.
	High Confidence = "high"
	// Medium: the first page was the last one, so the way to the next
	// could not be tried.
	Medium Confidence = "medium"
	// Low: what was found is a guess (see Report.Ambiguous).
	Low Confidence = "low"
)

// Report is what Detect found.
type Report struct {
	// URL is the URL detected.
	URL string
	// Stream is the proposed stream, which Spec writes out.
	Stream spec.Stream
	// Style says how the pages follow each other, in words.
	Style string
	// Confidence says how sure the proposal is, and Why says why.
	Confidence Confidence
	Why        string
	// Found lists what was found, in words.
	Found []string
	// Unknown lists what could not be known, such as the parameter that
	// filters by the incremental field.
	Unknown []string
	// Ambiguous lists what the responses could not tell apart, each with
	// its candidates; the proposal then takes the first candidate and is
	// a guess.
	Ambiguous []string
	// Warnings say what the proposal may lose on this API, such as a next
	// token that is only the last record's timestamp.
	Warnings []string
	// Requests counts the requests sent.
	Requests int
}

// detector holds one detection's state.
type detector struct {
	opts     Options
	client   *http.Client
	requests int
	rep      *Report

	first   *response
	recs    records
	key     string
	signals signals
}

// Detect infers the spec of the API at rawURL (see the package
// documentation). It fails when the first page cannot be fetched or holds
// no records it can read, or when no way to a second page works.
func Detect(ctx context.Context, rawURL string, opts Options) (*Report, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("detect: %q is not an absolute http or https URL", rawURL)
	}
	d := &detector{opts: opts, client: opts.Client, rep: &Report{URL: rawURL}}
	if d.client == nil {
		d.client = newClient()
	}
	err = d.run(ctx, u)
	d.rep.Requests = d.requests
	if err != nil {
		return d.rep, fmt.Errorf("detect: %w", err)
	}
	return d.rep, nil
}

func (d *detector) run(ctx context.Context, u *url.URL) error {
	if err := d.fetchFirst(ctx, u); err != nil {
		return err
	}
	rep := d.rep
	recs, others, err := findRecords(d.first.doc)
	if err != nil {
		return err
	}
	d.recs = recs
	where := "the body, a JSON array"
	if recs.path != "" {
		where = recs.path
	}
	rep.Found = append(rep.Found, fmt.Sprintf("records: %s (%d on the first page)", where, len(recs.items)))
	if len(others) > 0 {
		var names []string
		for _, o := range others {
			names = append(names, fmt.Sprintf("%s (%d)", o.path, len(o.items)))
		}
		rep.Ambiguous = append(rep.Ambiguous, "records: the response holds several lists of objects: "+strings.Join(names, ", ")+
			"; "+recs.path+" was taken: set response.items_path")
	}
	d.describeRecords()
	d.signals = readSignals(d.first, recs.path, len(recs.items))
	st := d.baseStream(u)
	cands := d.candidates()
	if len(cands) == 0 {
		return d.noPaging(&st)
	}
	return d.choose(ctx, cands, &st)
}

// fetchFirst fetches the first page, as POST {} when GET is refused.
func (d *detector) fetchFirst(ctx context.Context, u *url.URL) error {
	method := d.opts.Method
	if method == "" {
		method = http.MethodGet
		if d.opts.Body != nil {
			method = http.MethodPost
		}
	}
	r := request{method: method, url: u, body: d.opts.Body}
	first, err := d.fetch(ctx, r)
	var se *statusError
	if errors.As(err, &se) && first != nil && first.status == http.StatusMethodNotAllowed && d.opts.Method == "" && d.opts.Body == nil {
		r = request{method: http.MethodPost, url: u, body: []byte("{}")}
		if first, err = d.fetch(ctx, r); err == nil {
			d.rep.Found = append(d.rep.Found, "the endpoint refuses GET (405): it was asked with POST {}")
		}
	}
	if err != nil {
		if errors.As(err, &se) && (first.status == http.StatusUnauthorized || first.status == http.StatusForbidden) {
			return fmt.Errorf("%w (give its credentials with -H 'Authorization: Bearer ...')", err)
		}
		return err
	}
	d.first = first
	return nil
}

// describeRecords finds the records' key and incremental field.
func (d *detector) describeRecords() {
	rep := d.rep
	items := d.recs.items
	key, otherKeys := primaryKey(items)
	d.key = key
	switch {
	case key != "":
		s := fmt.Sprintf("primary key: %s (present and unique in every record)", key)
		if len(otherKeys) > 0 {
			s += "; also unique: " + strings.Join(otherKeys, ", ")
		}
		rep.Found = append(rep.Found, s)
	case len(items) == 0:
		rep.Unknown = append(rep.Unknown, "the primary key: the first page has no records; set table.primary_key")
	default:
		rep.Unknown = append(rep.Unknown, "the primary key: no field is present and unique in every record; set table.primary_key")
	}
	mark, others := markField(items)
	if mark != "" {
		s := fmt.Sprintf("incremental field: %s (a timestamp in every record)", mark)
		if len(others) > 0 {
			s += "; also: " + strings.Join(others, ", ")
		}
		rep.Found = append(rep.Found, s)
		rep.Unknown = append(rep.Unknown, fmt.Sprintf("the parameter that asks for the records changed since a time (window.since_param, such as updated_since), "+
			"and the form of its value: with it and options.high_water: %s, each sync reads only what changed", mark))
	} else if len(items) > 0 {
		rep.Unknown = append(rep.Unknown, "an incremental field: no field holds a timestamp in every record, so every sync reads everything")
	}
}

// baseStream returns the stream of the URL, without its paging.
func (d *detector) baseStream(u *url.URL) spec.Stream {
	st := spec.Stream{Name: streamName(u)}
	st.Request.URL = u.String()
	if d.first.req.method != http.MethodGet {
		st.Request.Method = d.first.req.method
	}
	st.Response.ItemsPath = d.recs.path
	if d.key != "" {
		st.Table.PrimaryKey = []string{d.key}
		if len(d.recs.items) > 0 {
			if v, _ := d.recs.items[0].(*object).get(d.key); text(v) != "" {
				if _, isStr := v.(string); !isStr {
					st.Table.Columns = map[string]spec.ColumnType{d.key: "long"}
				}
			}
		}
	}
	plain, secret := splitHeader(d.opts.Header)
	st.Request.Header = plain
	for _, h := range secret {
		if strings.EqualFold(h, "Authorization") {
			st.Request.Auth = &spec.Auth{Bearer: "${API_TOKEN}"}
			d.rep.Unknown = append(d.rep.Unknown, "the credentials: the Authorization header given is taken as a bearer token, from the environment variable API_TOKEN")
			continue
		}
		if st.Request.Header == nil {
			st.Request.Header = make(map[string]string)
		}
		env := envName(h)
		st.Request.Header[h] = "${" + env + "}"
		d.rep.Unknown = append(d.rep.Unknown, fmt.Sprintf("the credentials: the header %s given is taken from the environment variable %s", h, env))
	}
	if s := d.signals; s.itemsHeader != "" {
		st.Response.TotalItemsHeader = s.itemsHeader
	}
	return st
}

var nonName = regexp.MustCompile(`[^A-Za-z0-9]+`)

// envName returns the environment variable a header's credential is
// taken from, such as X_API_KEY for X-Api-Key.
func envName(h string) string {
	return strings.ToUpper(strings.Trim(nonName.ReplaceAllString(h, "_"), "_"))
}

// streamName names the stream after the URL's last path segment.
func streamName(u *url.URL) string {
	name := path.Base(strings.TrimSuffix(u.Path, "/"))
	name = strings.Trim(nonName.ReplaceAllString(name, "_"), "_")
	if name == "" || name == "." {
		name = "records"
	}
	return strings.ToLower(name)
}

// noPaging proposes a stream of one request: the first response gave no
// sign of more pages.
func (d *detector) noPaging(st *spec.Stream) error {
	rep := d.rep
	st.Paging = spec.Paging{Strategy: spec.NextToken, LinkRel: "next"}
	rep.Stream = *st
	rep.Style = "no pagination: the first response holds every record"
	rep.Confidence = Medium
	rep.Why = fmt.Sprintf("the first response (%d records) has no Link header, next URL, token, page number, offset, total or has-more flag; "+
		"the spec reads it in one request, and would follow a Link header if one came. If the API pages with a parameter, "+
		"run detect on a URL that asks for the first page (such as ?page=1 or ?_page=1)", len(d.recs.items))
	return nil
}

// choose verifies the candidates in order, and proposes the first that
// works.
func (d *detector) choose(ctx context.Context, cands []*candidate, st *spec.Stream) error {
	rep := d.rep
	var tried []string
	for i, c := range cands {
		res := d.verify(ctx, c)
		if !res.ok {
			tried = append(tried, fmt.Sprintf("%s: %s", c.style, res.detail))
			continue
		}
		c.apply(st)
		rep.Stream = *st
		rep.Style = c.style
		if w := d.timestampToken(c.token); w != "" {
			rep.Warnings = append(rep.Warnings, w)
		}
		rep.Found = append(rep.Found, "pagination: "+c.found)
		rep.Confidence, rep.Why = res.confidence, res.detail
		// Another way of the same rank that works too cannot be told
		// apart from this one.
		var also []string
		groups := map[string]bool{c.group: true}
		for _, o := range cands[i+1:] {
			if o.rank != c.rank || groups[o.group] {
				continue
			}
			if r := d.verify(ctx, o); r.ok && r.confidence == High {
				also = append(also, o.style+" ("+o.found+")")
				groups[o.group] = true
			}
		}
		if len(also) > 0 {
			rep.Ambiguous = append(rep.Ambiguous, fmt.Sprintf("pagination: %s (%s) works, and so does %s; the first was taken: "+
				"keep the one the API documents", c.style, c.found, strings.Join(also, " and ")))
		}
		if len(rep.Ambiguous) > 0 {
			rep.Confidence = Low
		}
		for _, t := range tried {
			rep.Found = append(rep.Found, "tried first: "+t)
		}
		return nil
	}
	return fmt.Errorf("no way to the second page worked:\n  %s", strings.Join(tried, "\n  "))
}

// timestampToken warns of a next token that is nothing but the first
// page's last timestamp of the incremental field (as text or base64): an
// API that serves the records after it skips those that share it across
// a page boundary, as records changed together do.
func (d *detector) timestampToken(token string) string {
	mark := d.rep.mark()
	items := d.recs.items
	if token == "" || mark == "" || len(items) == 0 {
		return ""
	}
	v, _ := items[len(items)-1].(*object).get(mark)
	last, ok := v.(string)
	if !ok {
		return ""
	}
	lastT, err := time.Parse(time.RFC3339Nano, last)
	if err != nil {
		return ""
	}
	for _, text := range []string{token, decode64(base64.StdEncoding, token), decode64(base64.URLEncoding, token), decode64(base64.RawURLEncoding, token)} {
		if t, err := time.Parse(time.RFC3339Nano, text); err == nil && t.Equal(lastT) {
			return fmt.Sprintf("the next token is the last record's %s: an API that serves the records after it skips those "+
				"that share it across a page boundary (records changed together do), and this spec would not see it. "+
				"If the API filters by %s (such as updated_since, at or after a time), the cursor strategy with "+
				"cursor_field: %s and inclusive: true loses none", mark, mark, mark)
		}
	}
	return ""
}

func decode64(enc *base64.Encoding, s string) string {
	b, err := enc.DecodeString(s)
	if err != nil {
		return ""
	}
	return string(b)
}
