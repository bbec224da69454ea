package strategies

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/pagekit/pagekit/paginate"
)

// Secrets: what the strategies keep out of errors, logs and positions.
//
// A value is secret when it is sent under a secret name (a query parameter
// or header that paginate.SecretName flags, or that Request.Secrets lists),
// in the Authorization, Proxy-Authorization or Cookie header, as the
// password of the URL, when Request.Auth sets it (a header other than the
// standard ones, or a query parameter), when an Auth function marks it
// with MarkSecret, or when Request.Auth holds it (a CredentialHolder: a
// client secret, a refresh token), whether or not the request carries it.
// Errors name the URL with the values of secret parameters replaced by
// "REDACTED", and every value the request carried is masked wherever it
// shows up in the text of an error, the quoted body included. Next URLs
// the API issues keep no secret value in the positions they become (see
// client.storeNext).

// redacted replaces a secret value in every output.
const redacted = "REDACTED"

// minSecretLen is the shortest value searched for in quoted text: shorter
// ones would mask ordinary words and are no credential worth the name.
const minSecretLen = 4

// secretNames decides which names are secret for one client.
type secretNames struct {
	extra  map[string]bool // Request.Secrets, lower-cased
	public map[string]bool // the strategy's own parameters, never secret
}

func newSecretNames(extra []string, public []string) *secretNames {
	s := &secretNames{}
	for _, n := range extra {
		if n == "" {
			continue
		}
		if s.extra == nil {
			s.extra = make(map[string]bool)
		}
		s.extra[strings.ToLower(n)] = true
	}
	for _, n := range public {
		if n == "" {
			continue
		}
		if s.public == nil {
			s.public = make(map[string]bool)
		}
		s.public[n] = true
	}
	return s
}

// is reports whether a parameter or header name holds a secret. A nil
// *secretNames knows the built-in names only.
func (s *secretNames) is(name string) bool {
	if s == nil {
		return paginate.SecretName(name)
	}
	if s.extra[strings.ToLower(name)] {
		return true
	}
	return !s.public[name] && paginate.SecretName(name)
}

// MarkSecret tells the paginator that values are credentials, so that they
// are masked wherever they would show up in an error: in a quoted response
// body that echoes the request, or in a URL under a parameter name that
// does not look secret. Call it from an Request.Auth function, on the request
// it was given, for every credential it sets that is not already sent
// under a secret name (the Authorization header, or a parameter or header
// that paginate.SecretName or Request.Secrets names: those are known
// already). On a request not built by a strategy it does nothing.
func MarkSecret(req *http.Request, values ...string) {
	if ex, ok := req.Context().Value(exchangeKey{}).(*exchange); ok {
		ex.marked = append(ex.marked, values...)
	}
}

// redactor masks secrets in text: the values a request carried, and the
// values of secret-looking fields in text the library did not write.
type redactor struct {
	names  *secretNames
	values []string // longest first, so a value is masked before its parts
}

// newRedactor collects the secret values req carries: its URL's password,
// the values of its secret query parameters and headers, and the values
// marked with MarkSecret.
func newRedactor(names *secretNames, req *http.Request, marked []string) *redactor {
	r := &redactor{names: names}
	defer r.sort()
	r.add(marked...)
	if req == nil {
		return r
	}
	if req.URL != nil {
		if p, ok := req.URL.User.Password(); ok {
			r.add(p)
		}
		for k, vs := range req.URL.Query() {
			if names.is(k) {
				r.add(vs...)
			}
		}
	}
	for k, vs := range req.Header {
		if !names.is(k) {
			continue
		}
		for _, v := range vs {
			r.addHeader(k, v)
		}
	}
	return r
}

// sort puts the values longest first, so that a value is masked before
// its parts, and drops repeats.
func (r *redactor) sort() {
	slices.SortFunc(r.values, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	r.values = slices.Compact(r.values)
}

// addHeader adds a header value, and its parts a body may echo alone: the
// credentials after an auth scheme ("Bearer abc"), the password inside
// Basic credentials, and the values of cookies.
func (r *redactor) addHeader(name, v string) {
	r.add(v)
	if strings.EqualFold(name, "Cookie") {
		for _, c := range strings.Split(v, ";") {
			if _, val, ok := strings.Cut(c, "="); ok {
				r.add(strings.TrimSpace(val))
			}
		}
		return
	}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return
	}
	cred = strings.TrimSpace(cred)
	r.add(cred)
	if strings.EqualFold(scheme, "Basic") {
		if b, err := base64.StdEncoding.DecodeString(cred); err == nil {
			if _, pass, ok := strings.Cut(string(b), ":"); ok {
				r.add(pass)
			}
		}
	}
}

// add adds values and the forms a body or URL may quote them in: as
// they are, query-escaped and JSON-escaped.
func (r *redactor) add(values ...string) {
	for _, v := range values {
		if len(v) < minSecretLen {
			continue
		}
		r.values = append(r.values, v)
		if e := url.QueryEscape(v); e != v {
			r.values = append(r.values, e)
		}
		if b, err := json.Marshal(v); err == nil {
			e := string(b[1 : len(b)-1])
			if e != v {
				r.values = append(r.values, e)
			}
			if strings.Contains(e, "/") { // some encoders escape the slash too
				r.values = append(r.values, strings.ReplaceAll(e, "/", `\/`))
			}
		}
	}
}

// The shapes in which text the library did not write carries a secret:
// a JSON member, a query-like key=value, an auth scheme's credentials.
var (
	jsonMember = regexp.MustCompile(`"((?:[^"\\]|\\.){1,100})"\s*:\s*"((?:[^"\\]|\\.)*)("?)`)
	keyValue   = regexp.MustCompile(`([A-Za-z0-9_.\-]{1,100})=([^&\s"'<>,;]+)`)
	authScheme = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/=\-]+)`)
)

// text returns s with every known secret value, and the values of
// secret-looking fields, replaced by "REDACTED". A nil *redactor masks
// the fields only.
func (r *redactor) text(s string) string {
	var names *secretNames
	if r != nil {
		names = r.names
		for _, v := range r.values {
			s = strings.ReplaceAll(s, v, redacted)
		}
	}
	s = jsonMember.ReplaceAllStringFunc(s, func(m string) string {
		sub := jsonMember.FindStringSubmatch(m)
		if !names.is(sub[1]) || sub[2] == "" || sub[2] == redacted {
			return m
		}
		return strings.TrimSuffix(m, sub[2]+sub[3]) + redacted + sub[3]
	})
	s = keyValue.ReplaceAllStringFunc(s, func(m string) string {
		k, v, _ := strings.Cut(m, "=")
		if strings.HasPrefix(v, redacted) || !names.is(k) {
			return m
		}
		return k + "=" + redacted
	})
	return authScheme.ReplaceAllString(s, "${1}${2}"+redacted)
}

// excerpt masks a body excerpt: as text, and, since an excerpt may cut a
// secret short, a tail that is the start of a known secret.
func (r *redactor) excerpt(p []byte) []byte {
	if len(p) == 0 {
		return p
	}
	s := r.text(string(p))
	if r != nil {
		for _, v := range r.values {
			for n := min(len(v)-1, len(s)); n >= 3; n-- {
				if strings.HasSuffix(s, v[:n]) {
					s = s[:len(s)-n] + redacted
					break
				}
			}
		}
	}
	return []byte(s)
}

// url returns u as a string without its fragment, with its password and
// the values of its secret parameters, by name or by value, replaced by
// "REDACTED". The order of the query is kept.
func (r *redactor) url(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.Fragment, c.RawFragment = "", ""
	if c.User != nil {
		if _, ok := c.User.Password(); ok {
			c.User = url.UserPassword(c.User.Username(), redacted)
		}
	}
	if c.RawQuery != "" {
		c.RawQuery = mapQuery(c.RawQuery, func(name, value string) (string, bool) {
			if r.secret(name, value) {
				return redacted, true
			}
			return "", false
		})
	}
	return c.String()
}

// secret reports whether a parameter is secret, by its name or its value.
func (r *redactor) secret(name, value string) bool {
	if r == nil {
		return paginate.SecretName(name)
	}
	return r.names.is(name) || len(value) >= minSecretLen && slices.Contains(r.values, value)
}

// dropParam, returned by a mapQuery function, removes the parameter.
const dropParam = "\x00"

// mapQuery rewrites the values of a raw query, keeping its order and the
// encoding of what it does not change. f gets each parameter decoded and
// returns a new raw value, or dropParam, or false to keep it; a parameter
// without a value is kept.
func mapQuery(q string, f func(name, value string) (string, bool)) string {
	var b strings.Builder
	for _, pair := range strings.Split(q, "&") {
		k, v, hasValue := strings.Cut(pair, "=")
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		if !hasValue {
			b.WriteString(pair)
			continue
		}
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			value = v
		}
		if nv, ok := f(name, value); ok {
			if nv == dropParam {
				s := b.String()
				b.Reset()
				b.WriteString(strings.TrimSuffix(s, "&"))
				continue
			}
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(nv)
			continue
		}
		b.WriteString(pair)
	}
	return b.String()
}

// redactURL redacts a URL by the built-in secret names only, for the
// rare error that has no request to learn more from.
func redactURL(u *url.URL) string { return (*redactor)(nil).url(u) }

// redactString redacts a URL held as a string; text that does not parse
// as a URL is masked as text.
func redactString(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return (*redactor)(nil).text(s)
	}
	return redactURL(u)
}

// Next URLs. An API may put a credential in the next URLs it issues: the
// api_key it was sent, or a token of its own (access_token=..., a
// signature). Such a URL becomes a position, which is logged and stored in
// checkpoints, so it must not hold the value. storeNext takes the value
// out: a value the client sends anyway (a configured query parameter) is
// dropped, and any other is replaced by a marker, "REDACTED-" and a keyed
// hash of the parameter, while the value is remembered in memory for this
// process's requests. restoreNext puts the values back before a request:
// from memory, or, for a position read from a checkpoint by a new process,
// from the configured parameters of the same name, or from Auth. When none
// has it, the request fails with ErrSecretUnknown rather than go without.

// markerPrefix starts the value of a secret parameter in a stored next
// URL.
const markerPrefix = redacted + "-"

// issued remembers the secret values of recent next URLs by marker.
type issued struct {
	key   [32]byte // the hash key: random, so a marker tells nothing
	mu    sync.Mutex
	vals  map[string]string
	order []string // markers, oldest first
}

// maxIssued bounds the values remembered: a page is fetched soon after
// the page that named it, so only the latest few are ever needed.
const maxIssued = 1024

func newIssued() *issued {
	s := &issued{vals: make(map[string]string)}
	_, _ = rand.Read(s.key[:]) // crypto/rand.Read never fails
	return s
}

func (s *issued) marker(name, value string) string {
	m := hmac.New(sha256.New, s.key[:])
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(value))
	mk := markerPrefix + hex.EncodeToString(m.Sum(nil)[:6])
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.vals[mk]; !ok {
		if len(s.order) >= maxIssued {
			delete(s.vals, s.order[0])
			s.order = s.order[1:]
		}
		s.order = append(s.order, mk)
	}
	s.vals[mk] = value
	return mk
}

func (s *issued) value(marker string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vals[marker]
	return v, ok
}

// storeNext takes the secret values out of a next URL the API issued in
// answer to req, before it becomes a position.
func (c *client) storeNext(req *http.Request, u *url.URL) {
	if u.RawQuery == "" {
		return
	}
	r := c.redactor(req)
	u.RawQuery = mapQuery(u.RawQuery, func(name, value string) (string, bool) {
		if value == "" || strings.HasPrefix(value, markerPrefix) || !r.secret(name, value) {
			return "", false
		}
		if slices.Contains(c.secrets[name], value) {
			return dropParam, true // sent again from the configuration
		}
		return c.issued.marker(name, value), true
	})
}

// restoreNext puts the secret values back into a stored next URL, and
// adds the configured secret parameters it lacks. It returns the names of
// parameters whose value it could not find: the request must get them
// from Auth, or fail.
func (c *client) restoreNext(u *url.URL) (missing []string) {
	if u.RawQuery != "" && strings.Contains(u.RawQuery, markerPrefix) {
		u.RawQuery = mapQuery(u.RawQuery, func(name, value string) (string, bool) {
			if !strings.HasPrefix(value, markerPrefix) {
				return "", false
			}
			if v, ok := c.issued.value(value); ok {
				return url.QueryEscape(v), true
			}
			if vs := c.secrets[name]; len(vs) > 0 {
				return url.QueryEscape(vs[0]), true
			}
			missing = append(missing, name)
			return dropParam, true
		})
	}
	c.addSecrets(u)
	return missing
}

// addSecrets adds to u the configured secret parameters it lacks.
func (c *client) addSecrets(u *url.URL) {
	if len(c.secrets) == 0 {
		return
	}
	q := u.Query()
	var add url.Values
	for k, vs := range c.secrets {
		if !q.Has(k) {
			if add == nil {
				add = make(url.Values)
			}
			add[k] = vs
		}
	}
	if add == nil {
		return
	}
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += add.Encode()
}

// checkRestored fails a request whose stored next URL lost a secret value
// that neither the configuration nor Auth supplied.
func checkRestored(req *http.Request, missing []string) error {
	var lost []string
	q := req.URL.Query()
	for _, name := range missing {
		if !q.Has(name) {
			lost = append(lost, name)
		}
	}
	if len(lost) == 0 {
		return nil
	}
	return paginate.Permanent(fmt.Errorf("%w: the position's next URL had %s, issued by the API and kept out of "+
		"checkpoints; this process never saw its value: set it in Request.Query or Request.Auth, or restart the stream from "+
		"the start", ErrSecretUnknown, strings.Join(lost, ", ")))
}

// exchangeKey carries a request's *exchange in its context.
type exchangeKey struct{}

// exchangeOf returns the exchange of a request a strategy built, or nil.
func exchangeOf(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}
