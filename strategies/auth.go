package strategies

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/pagekit/pagekit/paginate"
)

// An Auth sets credentials on a request. Request.Auth takes one, and calls it
// on every attempt, retries included, after the static headers are set, so
// that credentials that change (a refreshed token) are used at once. An
// error fails the attempt. Credentials an Auth sets under a name that is
// not secret by itself are marked with [MarkSecret], so they are masked in
// every error.
//
// An Auth that also implements [Refresher] gets one more chance when the
// server answers 401 Unauthorized: the request is sent once more after
// Refresh, and a second 401 fails it.
type Auth interface {
	Authenticate(req *http.Request) error
}

// A Refresher is an [Auth] whose credentials can be renewed, such as an
// OAuth 2.0 access token. After a 401 the client calls Refresh once, then
// sends the request once more; it never loops.
type Refresher interface {
	Refresh(ctx context.Context) error
}

// A CredentialHolder is an [Auth] that knows the credentials it holds: a
// key, a password, a client secret, a refresh token, the access tokens it
// fetched. A paginator masks them in every error it returns, and so in
// every log line, event and job row that quotes one, whatever request
// failed and whether or not that request carried them: fetching a token
// can fail before any request is sent, with an error that quotes what the
// token endpoint was sent. The Auths of this package implement it; an Auth
// of your own may, or mark its credentials with [MarkSecret].
type CredentialHolder interface {
	Auth
	// Credentials returns the credentials the Auth holds now.
	Credentials() []string
}

// AuthFunc adapts a function to an [Auth]. The values the function sets
// on a request, in headers other than the standard ones (Accept,
// Content-Type, User-Agent, ...) and in the query, are taken for
// credentials and masked in every error about the request, as
// [MarkSecret] would do; mark with MarkSecret any credential the function
// may quote in an error it returns without having set it.
type AuthFunc func(req *http.Request) error

// Authenticate calls f(req).
func (f AuthFunc) Authenticate(req *http.Request) error { return f(req) }

// static is an Auth that sets credentials it is given.
type static struct {
	set   func(req *http.Request)
	creds []string
}

func (a *static) Authenticate(req *http.Request) error {
	a.set(req)
	MarkSecret(req, a.creds...)
	return nil
}

func (a *static) Credentials() []string { return a.creds }

// Bearer sends token as "Authorization: Bearer <token>".
func Bearer(token string) Auth {
	return &static{set: func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+token) }, creds: []string{token}}
}

// Basic sends HTTP basic authentication.
func Basic(user, password string) Auth {
	return &static{set: func(req *http.Request) { req.SetBasicAuth(user, password) },
		creds: []string{password, base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}}
}

// APIKeyHeader sends key in the header name, such as "X-Api-Key". The
// key is masked in errors whatever the header's name.
func APIKeyHeader(name, key string) Auth {
	return &static{set: func(req *http.Request) { req.Header.Set(name, key) }, creds: []string{key}}
}

// APIKeyQuery sends key as the query parameter name, such as "api_key".
// The key is masked in errors and kept out of stored next URLs whatever
// the parameter's name; list the name in Request.Secrets too when the API
// echoes it in the next URLs it serves.
func APIKeyQuery(name, key string) Auth {
	return &static{set: func(req *http.Request) {
		q := req.URL.Query()
		q.Set(name, key)
		req.URL.RawQuery = q.Encode()
	}, creds: []string{key}}
}

// Chain applies every Auth in turn, such as an API key and a bearer
// token; its Refresh refreshes those that can.
func Chain(auths ...Auth) Auth { return chain(auths) }

type chain []Auth

func (c chain) Authenticate(req *http.Request) error {
	for _, a := range c {
		if err := a.Authenticate(req); err != nil {
			return err
		}
	}
	return nil
}

func (c chain) Refresh(ctx context.Context) error {
	var errs []error
	for _, a := range c {
		if r, ok := a.(Refresher); ok {
			errs = append(errs, r.Refresh(ctx))
		}
	}
	return errors.Join(errs...)
}

func (c chain) Credentials() []string { return credentialsOf([]Auth(c)...) }

// credentialsOf returns the credentials of the auths that know theirs.
func credentialsOf(auths ...Auth) []string {
	var creds []string
	for _, a := range auths {
		if h, ok := a.(CredentialHolder); ok {
			creds = append(creds, h.Credentials()...)
		}
	}
	return creds
}

// OAuth2 sends the access tokens of src, asked for a token on every
// attempt (an oauth2.TokenSource caches and refreshes its token itself).
// After a 401 the request is sent once more with the token src gives then.
// For tokens the client can renew itself, see [ClientCredentials] and
// [RefreshToken], which force a new token after a 401.
//
// The client secret and refresh token inside src are not known to the
// paginator: only the tokens src hands out are masked in its errors. Prefer
// ClientCredentials or RefreshToken, whose credentials are masked wherever
// they show.
func OAuth2(src oauth2.TokenSource) Auth {
	return &tokenAuth{fetch: func(context.Context) (*oauth2.Token, error) { return src.Token() }, noCache: true}
}

// ClientCredentials sends access tokens of the OAuth 2.0 client
// credentials flow of cfg: one is fetched when there is none or it
// expires, and a new one after a 401. The token endpoint is reached with
// the http.Client in the context of the request (oauth2.HTTPClient) or
// http.DefaultClient.
//
// The client secret is masked in every error, the token endpoint's
// included (an identity provider may quote it: "invalid client secret
// ..."), and so are the tokens the endpoint issues.
func ClientCredentials(cfg *clientcredentials.Config) Auth {
	return &tokenAuth{fetch: func(ctx context.Context) (*oauth2.Token, error) { return cfg.Token(ctx) },
		fixed: func() []string { return clientCredentials(cfg.ClientID, cfg.ClientSecret) }}
}

// clientCredentials returns the forms in which a token endpoint may quote
// a client's credentials: the secret, and the Basic credentials of the
// client, which golang.org/x/oauth2 sends query-escaped.
func clientCredentials(id, secret string) []string {
	if secret == "" {
		return nil
	}
	return []string{secret, base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret))),
		base64.StdEncoding.EncodeToString([]byte(id + ":" + secret))}
}

// RefreshToken sends access tokens of the OAuth 2.0 refresh token flow of
// cfg, starting from tok (whose AccessToken may be empty): a new access
// token is fetched with the refresh token when there is none or it
// expires, and after a 401. A refresh token the server rotates is kept for
// the next refresh. The client secret, the refresh tokens and the access
// tokens are masked in every error, the token endpoint's included.
func RefreshToken(cfg *oauth2.Config, tok *oauth2.Token) Auth {
	a := &tokenAuth{}
	if tok != nil && tok.AccessToken != "" {
		a.tok = tok
	}
	refresh := ""
	if tok != nil {
		refresh = tok.RefreshToken
	}
	a.fixed = func() []string {
		creds := clientCredentials(cfg.ClientID, cfg.ClientSecret)
		if tok != nil {
			creds = append(creds, tok.RefreshToken, tok.AccessToken)
		}
		return creds
	}
	a.fetch = func(ctx context.Context) (*oauth2.Token, error) {
		a.mu.Lock()
		rt := refresh
		if a.tok != nil && a.tok.RefreshToken != "" {
			rt = a.tok.RefreshToken
		}
		a.mu.Unlock()
		if rt == "" {
			return nil, errors.New("oauth2: no refresh token")
		}
		return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
	}
	return a
}

// tokenAuth sends OAuth 2.0 access tokens: the cached one while it is
// valid, or one fetched anew.
type tokenAuth struct {
	fetch   func(ctx context.Context) (*oauth2.Token, error)
	noCache bool            // ask fetch on every attempt (it caches itself)
	fixed   func() []string // the credentials the flow is configured with, or nil

	mu    sync.Mutex
	tok   *oauth2.Token
	stale bool     // the server refused tok: fetch a new one
	seen  []string // the latest tokens fetched, access and refresh
}

// maxSeen bounds the tokens a tokenAuth remembers to mask: an error quotes
// the tokens of its own request, which are among the latest.
const maxSeen = 8

// Authenticate sets the Authorization header from a valid token.
func (a *tokenAuth) Authenticate(req *http.Request) error {
	MarkSecret(req, a.Credentials()...)
	tok, err := a.token(req.Context())
	if err != nil {
		return err
	}
	tok.SetAuthHeader(req)
	MarkSecret(req, tok.AccessToken)
	return nil
}

// Credentials returns the client secret and refresh token the flow was
// configured with, and the latest tokens it fetched.
func (a *tokenAuth) Credentials() []string {
	var creds []string
	if a.fixed != nil {
		creds = a.fixed()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return append(creds, a.seen...)
}

func (a *tokenAuth) token(ctx context.Context) (*oauth2.Token, error) {
	a.mu.Lock()
	if !a.noCache && !a.stale && a.tok.Valid() {
		tok := a.tok
		a.mu.Unlock()
		return tok, nil
	}
	a.mu.Unlock()
	tok, err := a.fetch(ctx)
	if err != nil {
		return nil, tokenError(err, a.Credentials())
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, paginate.Permanent(errors.New("oauth2: the token source gave no access token"))
	}
	a.mu.Lock()
	a.tok, a.stale = tok, false
	for _, t := range []string{tok.AccessToken, tok.RefreshToken} {
		if t != "" && !slices.Contains(a.seen, t) {
			a.seen = append(a.seen, t)
		}
	}
	if len(a.seen) > maxSeen {
		a.seen = slices.Delete(a.seen, 0, len(a.seen)-maxSeen)
	}
	a.mu.Unlock()
	return tok, nil
}

// Refresh makes the next attempt use a new token, fetched now, after the
// server refused the current one.
func (a *tokenAuth) Refresh(ctx context.Context) error {
	a.mu.Lock()
	a.stale = true
	a.mu.Unlock()
	_, err := a.token(ctx)
	return err
}

// tokenError wraps an error of the token endpoint, with every credential
// of creds masked in its text and in the fields of the
// *oauth2.RetrieveError it may hold (whose body is the endpoint's answer):
// permanent when the endpoint refused the credentials (a 4xx, such as
// invalid_grant), so that the run does not retry what cannot succeed.
func tokenError(err error, creds []string) error {
	rd := &redactor{}
	rd.add(creds...)
	rd.sort()
	err = redactTokenError(err)
	var re *oauth2.RetrieveError
	status := ""
	if errors.As(err, &re) {
		maskRetrieveError(re, rd)
		if re.Response != nil {
			status = statusLine(re.Response) + ": "
		}
	}
	err = &redactedError{fmt.Errorf("oauth2: getting a token: %s%w", status, err), rd}
	if re != nil && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 &&
		re.Response.StatusCode != http.StatusTooManyRequests && re.Response.StatusCode != http.StatusRequestTimeout {
		return paginate.Permanent(err)
	}
	return err
}

// maskRetrieveError masks, in place, the credentials in the fields of an
// error from golang.org/x/oauth2, which quotes the token endpoint's body
// and keeps its response and request: the body and the error's text fields
// are masked, and the request is replaced by one with the method and the
// redacted URL only, without the headers that carried the client's
// credentials. The error is the paginator's own: x/oauth2 makes a new one
// for every failure.
func maskRetrieveError(re *oauth2.RetrieveError, rd *redactor) {
	re.Body = []byte(rd.text(string(re.Body)))
	re.ErrorCode = rd.text(re.ErrorCode)
	re.ErrorDescription = rd.text(re.ErrorDescription)
	re.ErrorURI = rd.text(re.ErrorURI)
	if re.Response == nil {
		return
	}
	resp := *re.Response
	resp.Body = http.NoBody
	if req := resp.Request; req != nil {
		clean := &http.Request{Method: req.Method, Proto: req.Proto, ProtoMajor: req.ProtoMajor, ProtoMinor: req.ProtoMinor,
			Header: http.Header{}, Host: req.Host}
		if req.URL != nil {
			clean.URL, _ = url.Parse(rd.url(req.URL))
		}
		resp.Request = clean
	}
	re.Response = &resp
}

// redactTokenError keeps the token endpoint's URL error free of a query
// that could carry credentials.
func redactTokenError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			return &url.Error{Op: ue.Op, URL: redactURL(u), Err: ue.Err}
		}
	}
	return err
}

// requestView is what a request carries before Auth runs: what Auth sets
// is told from it afterwards, and taken for credentials.
type requestView struct {
	header http.Header
	query  string
}

func viewOf(req *http.Request) requestView {
	return requestView{header: req.Header.Clone(), query: req.URL.RawQuery}
}

// notCredentials are the headers whose values Auth may set without their
// being credentials.
var notCredentials = map[string]bool{"Accept": true, "Accept-Encoding": true, "Accept-Language": true,
	"Content-Type": true, "Content-Length": true, "User-Agent": true, "Host": true}

// set returns the values req carries that it did not before Auth ran: in
// headers other than the standard ones, the credentials after an auth
// scheme ("Bearer abc") too, and in the query.
func (v requestView) set(req *http.Request) []string {
	var vals []string
	for k, vs := range req.Header {
		if notCredentials[k] {
			continue
		}
		for _, x := range vs {
			if slices.Contains(v.header[k], x) {
				continue
			}
			vals = append(vals, x)
			if _, cred, ok := strings.Cut(strings.TrimSpace(x), " "); ok {
				vals = append(vals, strings.TrimSpace(cred))
			}
		}
	}
	if req.URL.RawQuery != v.query {
		before, _ := url.ParseQuery(v.query)
		for k, vs := range req.URL.Query() {
			for _, x := range vs {
				if !slices.Contains(before[k], x) {
					vals = append(vals, x)
				}
			}
		}
	}
	return vals
}
