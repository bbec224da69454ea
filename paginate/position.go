package paginate

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Position says where a page starts. It is what a checkpoint stores: a
// page number, an offset, or an opaque token (a cursor, a next-page token or
// a next URL), plus the incremental lower bound the sync started from.
//
// Position is comparable, so the runner can remember every position it has
// requested and detect loops, and it encodes to JSON, so any store can keep
// it. The zero Position is the start of the data: a paginator fetches its
// first page for it.
type Position struct {
	// Page is a page number, for page-number paginators.
	Page int64 `json:"page,omitempty"`
	// Offset is a record offset, for offset paginators.
	Offset int64 `json:"offset,omitempty"`
	// Token is an opaque token, cursor or URL, for token paginators.
	Token string `json:"token,omitempty"`
	// Since is the high-water mark this sync started from (the
	// updated_since of an incremental sync), empty for a full sync. The
	// runner sets it on every position it passes to Fetch, so a paginator
	// reads it but never needs to carry it into Page.Next.
	Since string `json:"since,omitempty"`
}

// IsStart reports whether p is the start of the data: no page, offset or
// token, whatever its Since.
func (p Position) IsStart() bool {
	return p.Page == 0 && p.Offset == 0 && p.Token == ""
}

// String returns a short human form of p for logs and errors, such as
// "page 3", "offset 200" or "token abc". A token is quoted only when it
// holds spaces or unprintable characters, so a JSON cursor stays readable.
// A token that holds a URL query has the values of parameters that
// [SecretName] flags replaced by "REDACTED".
func (p Position) String() string {
	var s string
	switch {
	case p.Token != "":
		t := redactQuery(p.Token)
		if len(t) > 80 {
			cut := 77
			for cut > 0 && !utf8.RuneStart(t[cut]) {
				cut-- // do not split a rune: the text must stay valid UTF-8
			}
			t = t[:cut] + "..."
		}
		if plain(t) {
			s = "token " + t
		} else {
			s = "token " + strconv.Quote(t)
		}
	case p.Offset != 0:
		s = "offset " + strconv.FormatInt(p.Offset, 10)
	case p.Page != 0:
		s = "page " + strconv.FormatInt(p.Page, 10)
	default:
		s = "start"
	}
	if p.Page != 0 && (p.Token != "" || p.Offset != 0) {
		s = fmt.Sprintf("page %d, %s", p.Page, s)
	}
	if p.Since != "" {
		s += " since " + p.Since
	}
	return s
}

// plain reports whether t prints unambiguously without quotes.
func plain(t string) bool {
	for _, r := range t {
		if r == ' ' || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// SecretName reports whether a query parameter or header name looks like
// it holds a credential, ignoring case and the separators '-', '_' and '.':
// key, code, sig, auth, authorization, cookie, session and sessionid, jwt,
// pass, pwd and bearer as the whole name; secret, password, passwd,
// passphrase, credential, signature, sessid and the keys of APIs (apikey,
// accesskey, privatekey, authkey, appkey, applicationkey, clientkey,
// licensekey, subscriptionkey, consumerkey, masterkey, accountkey,
// developerkey, signingkey) anywhere in it; and token anywhere in it,
// unless the name also says it is a paging token (page, next, cursor,
// continuation, sync, start, resume, scroll, after, before, prev, last,
// offset, marker, iterator), as in page_token or nextPageToken.
//
// Paginators use it to keep credentials out of positions, errors and logs;
// [Position.String] uses it to redact a token that holds a URL.
func SecretName(name string) bool {
	n := normalName(name)
	switch n {
	case "key", "code", "sig", "auth", "authorization", "proxyauthorization", "cookie", "setcookie",
		"session", "sessionid", "sid", "jwt", "pass", "pwd", "bearer":
		return true
	}
	for _, s := range secretWords {
		if strings.Contains(n, s) {
			return true
		}
	}
	if !strings.Contains(n, "token") {
		return false
	}
	for _, s := range pagingWords {
		if strings.Contains(n, s) {
			return false
		}
	}
	return true
}

var secretWords = [...]string{"secret", "password", "passwd", "passphrase", "credential", "signature", "sessid",
	"apikey", "accesskey", "privatekey", "authkey", "appkey", "applicationkey", "clientkey", "licensekey",
	"subscriptionkey", "consumerkey", "masterkey", "accountkey", "developerkey", "signingkey"}

var pagingWords = [...]string{"page", "next", "cursor", "continu", "sync", "start", "resume", "scroll", "after",
	"before", "prev", "last", "offset", "marker", "iterator"}

// normalName lower-cases name and drops the separators '-', '_' and '.'.
func normalName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// redactQuery replaces the values of secret-looking parameters in the
// query of a token that holds one (after a '?'); other tokens are returned
// as they are.
func redactQuery(t string) string {
	i := strings.IndexByte(t, '?')
	if i < 0 || !strings.Contains(t[i:], "=") {
		return t
	}
	var b strings.Builder
	b.WriteString(t[:i+1])
	for j, pair := range strings.Split(t[i+1:], "&") {
		if j > 0 {
			b.WriteByte('&')
		}
		k, v, ok := strings.Cut(pair, "=")
		if ok && v != "" && SecretName(unescapeName(k)) {
			b.WriteString(k)
			b.WriteString("=REDACTED")
			continue
		}
		b.WriteString(pair)
	}
	return b.String()
}

// unescapeName decodes a query key well enough to read its name; a
// malformed escape leaves it as it is.
func unescapeName(k string) string {
	if n, err := url.QueryUnescape(k); err == nil {
		return n
	}
	return k
}
