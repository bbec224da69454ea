package mockapi

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PathToken is an OAuth 2.0 token endpoint (RFC 6749): POST a form with
// grant_type client_credentials, or refresh_token and refresh_token, the
// client authenticated by HTTP Basic or by client_id and client_secret in
// the form, and get {"access_token", "token_type": "Bearer",
// "expires_in", "refresh_token"}. [Config].OAuth says which client it
// accepts, whether the listings want its tokens, and how it fails.
//
// It is a hostile endpoint, as some identity providers are: every refusal
// echoes in its body what the request carried ("invalid client secret
// SECRET-…", the refresh token, the Authorization header), and so do the
// 401s of listings that want a token, so that a client's errors and logs
// are tested against credentials served back to it.
const PathToken = "/oauth/token"

// OAuth configures [PathToken] and the listings' need of its tokens.
type OAuth struct {
	// ClientID and ClientSecret are the client credentials the endpoint
	// accepts; other credentials get 401 invalid_client. Refresh tokens
	// it issued are accepted too, each once: a refresh rotates it.
	ClientID, ClientSecret string
	// Require makes every listing answer 401 to a request without an
	// access token of the endpoint's that has not expired.
	Require bool
	// TTL is how long an access token lives. Zero means an hour.
	TTL time.Duration
	// Fail, when set, answers every token request with this status
	// (such as 400, 401 or 500) and a body that echoes the credentials it
	// got.
	Fail int
}

func (o OAuth) ttl() time.Duration {
	if o.TTL <= 0 {
		return time.Hour
	}
	return o.TTL
}

// tokens are the tokens the endpoint issued.
type tokens struct {
	mu      sync.Mutex
	access  map[string]time.Time // access token: expiry
	refresh map[string]bool      // refresh tokens not yet used
	issued  int
}

func (t *tokens) issue(ttl time.Duration) (access, refresh string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.access == nil {
		t.access, t.refresh = make(map[string]time.Time), make(map[string]bool)
	}
	t.issued++
	access, refresh = "at-"+strconv.Itoa(t.issued)+"-"+randomHex(), "rt-"+strconv.Itoa(t.issued)+"-"+randomHex()
	t.access[access] = time.Now().Add(ttl)
	t.refresh[refresh] = true
	return access, refresh
}

func randomHex() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// valid reports whether access is a live access token.
func (t *tokens) valid(access string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	exp, ok := t.access[access]
	return ok && time.Now().Before(exp)
}

// useRefresh takes a refresh token, which is good once.
func (t *tokens) useRefresh(rt string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.refresh[rt] {
		return false
	}
	delete(t.refresh, rt)
	return true
}

// ExpireTokens makes every access token the token endpoint issued expire
// now, so that the next request with one gets 401, as after a server-side
// revocation. Refresh tokens stay good.
func (s *Server) ExpireTokens() {
	t := &s.tokens
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.access {
		t.access[k] = time.Time{}
	}
}

// serveToken answers a request to PathToken.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.stats.bad.Add(1)
		w.Header().Set("Allow", "POST")
		s.writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "POST the token request")
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	form, perr := url.ParseQuery(string(raw))
	if err != nil || perr != nil {
		s.stats.bad.Add(1)
		s.writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the body is not a form")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	cfg := s.cfg.OAuth
	// What a careless identity provider says back: everything it got.
	echo := "client " + id + ", client secret " + secret
	if rt := form.Get("refresh_token"); rt != "" {
		echo += ", refresh token " + rt
	}
	if a := r.Header.Get("Authorization"); a != "" {
		echo += ", Authorization " + a
	}
	if cfg.Fail != 0 {
		s.stats.errors.Add(1)
		s.writeOAuthError(w, cfg.Fail, "invalid_client", "invalid client secret "+secret+" ("+echo+")")
		return
	}
	if id != cfg.ClientID || secret != cfg.ClientSecret {
		s.stats.bad.Add(1)
		s.writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "invalid client secret "+secret+" ("+echo+")")
		return
	}
	switch form.Get("grant_type") {
	case "client_credentials":
	case "refresh_token":
		if !s.tokens.useRefresh(form.Get("refresh_token")) {
			s.stats.bad.Add(1)
			s.writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "unknown refresh token "+form.Get("refresh_token"))
			return
		}
	default:
		s.stats.bad.Add(1)
		s.writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type "+form.Get("grant_type"))
		return
	}
	access, refresh := s.tokens.issue(cfg.ttl())
	b := append([]byte(`{"access_token":`), appendString(nil, access)...)
	b = append(b, `,"token_type":"Bearer","expires_in":`...)
	b = strconv.AppendInt(b, int64(cfg.ttl()/time.Second), 10)
	b = append(append(b, `,"refresh_token":`...), appendString(nil, refresh)...)
	b = append(b, "}\n"...)
	s.stats.ok.Add(1)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.Write(b)
}

// authorized reports whether a listing's request may be served: always,
// unless OAuth.Require, when it must carry a live access token. It
// answers the request itself when not.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if !s.cfg.OAuth.Require {
		return true
	}
	a := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(a, "Bearer "); ok && s.tokens.valid(tok) {
		return true
	}
	s.stats.bad.Add(1)
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	s.writeOAuthError(w, http.StatusUnauthorized, "invalid_token", "invalid or expired token in Authorization "+a)
	return false
}

func (s *Server) writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	b := append(appendString(append([]byte(nil), `{"error":`...), code), `,"error_description":`...)
	b = append(appendString(b, desc), "}\n"...)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
