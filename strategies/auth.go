package strategies

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/pagekit/pagekit/paginate"
)

// An Auth sets credentials on a request. HTTP.Auth takes one, and calls it
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

// AuthFunc adapts a function to an [Auth].
type AuthFunc func(req *http.Request) error

// Authenticate calls f(req).
func (f AuthFunc) Authenticate(req *http.Request) error { return f(req) }

// Bearer sends token as "Authorization: Bearer <token>".
func Bearer(token string) Auth {
	return AuthFunc(func(req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	})
}

// Basic sends HTTP basic authentication.
func Basic(user, password string) Auth {
	return AuthFunc(func(req *http.Request) error {
		req.SetBasicAuth(user, password)
		MarkSecret(req, password)
		return nil
	})
}

// APIKeyHeader sends key in the header name, such as "X-Api-Key". The
// key is masked in errors whatever the header's name.
func APIKeyHeader(name, key string) Auth {
	return AuthFunc(func(req *http.Request) error {
		req.Header.Set(name, key)
		MarkSecret(req, key)
		return nil
	})
}

// APIKeyQuery sends key as the query parameter name, such as "api_key".
// The key is masked in errors and kept out of stored next URLs whatever
// the parameter's name; list the name in HTTP.Secrets too when the API
// echoes it in the next URLs it serves.
func APIKeyQuery(name, key string) Auth {
	return AuthFunc(func(req *http.Request) error {
		q := req.URL.Query()
		q.Set(name, key)
		req.URL.RawQuery = q.Encode()
		MarkSecret(req, key)
		return nil
	})
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

// OAuth2 sends the access tokens of src, asked for a token on every
// attempt (an oauth2.TokenSource caches and refreshes its token itself).
// After a 401 the request is sent once more with the token src gives then.
// For tokens the client can renew itself, see [ClientCredentials] and
// [RefreshToken], which force a new token after a 401.
func OAuth2(src oauth2.TokenSource) Auth {
	return &tokenAuth{fetch: func(context.Context) (*oauth2.Token, error) { return src.Token() }, noCache: true}
}

// ClientCredentials sends access tokens of the OAuth 2.0 client
// credentials flow of cfg: one is fetched when there is none or it
// expires, and a new one after a 401. The token endpoint is reached with
// the http.Client in the context of the request (oauth2.HTTPClient) or
// http.DefaultClient.
func ClientCredentials(cfg *clientcredentials.Config) Auth {
	return &tokenAuth{fetch: func(ctx context.Context) (*oauth2.Token, error) { return cfg.Token(ctx) }}
}

// RefreshToken sends access tokens of the OAuth 2.0 refresh token flow of
// cfg, starting from tok (whose AccessToken may be empty): a new access
// token is fetched with the refresh token when there is none or it
// expires, and after a 401. A refresh token the server rotates is kept for
// the next refresh.
func RefreshToken(cfg *oauth2.Config, tok *oauth2.Token) Auth {
	a := &tokenAuth{}
	if tok != nil && tok.AccessToken != "" {
		a.tok = tok
	}
	refresh := ""
	if tok != nil {
		refresh = tok.RefreshToken
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
	noCache bool // ask fetch on every attempt (it caches itself)

	mu    sync.Mutex
	tok   *oauth2.Token
	stale bool // the server refused tok: fetch a new one
}

// Authenticate sets the Authorization header from a valid token.
func (a *tokenAuth) Authenticate(req *http.Request) error {
	tok, err := a.token(req.Context())
	if err != nil {
		return err
	}
	tok.SetAuthHeader(req)
	MarkSecret(req, tok.AccessToken)
	return nil
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
		return nil, tokenError(err)
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, paginate.Permanent(errors.New("oauth2: the token source gave no access token"))
	}
	a.mu.Lock()
	a.tok, a.stale = tok, false
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

// tokenError wraps an error of the token endpoint: permanent when the
// endpoint refused the credentials (a 4xx, such as invalid_grant), so
// that the run does not retry what cannot succeed.
func tokenError(err error) error {
	err = fmt.Errorf("oauth2: getting a token: %w", redactTokenError(err))
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 &&
		re.Response.StatusCode != http.StatusTooManyRequests && re.Response.StatusCode != http.StatusRequestTimeout {
		return paginate.Permanent(err)
	}
	return err
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
