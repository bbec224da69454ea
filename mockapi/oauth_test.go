package mockapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestTokenEndpoint: the client credentials flow through golang.org/x/oauth2
// against a real server, in both ways of sending the client's credentials;
// a listing that wants a token refuses a request without one, and one whose
// token expired; a refresh token is good once; and every refusal echoes the
// credentials it got.
func TestTokenEndpoint(t *testing.T) {
	s := New(Config{Records: 20, OAuth: OAuth{ClientID: "cid", ClientSecret: "SECRET-good", Require: true}})
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cfg := &clientcredentials.Config{ClientID: "cid", ClientSecret: "SECRET-good", TokenURL: srv.URL + PathToken, AuthStyle: style}
		tok, err := cfg.Token(ctx)
		if err != nil || !strings.HasPrefix(tok.AccessToken, "at-") || tok.RefreshToken == "" || tok.Expiry.IsZero() {
			t.Fatalf("style %v: token %+v, %v", style, tok, err)
		}
		req, _ := http.NewRequest("GET", srv.URL+PathPageNumber, nil)
		tok.SetAuthHeader(req)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("style %v: a listing with the token: %v", style, resp.Status)
		}

		// A refresh token works once.
		oc := &oauth2.Config{ClientID: "cid", ClientSecret: "SECRET-good", Endpoint: oauth2.Endpoint{TokenURL: srv.URL + PathToken, AuthStyle: style}}
		if _, err := oc.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
			t.Errorf("style %v: refresh: %v", style, err)
		}
		_, err = oc.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response.StatusCode != 400 || !strings.Contains(string(re.Body), tok.RefreshToken) {
			t.Errorf("style %v: a second refresh with one token: %v, want a 400 that echoes it", style, err)
		}

		// Wrong credentials: 401, the secret echoed.
		bad := &clientcredentials.Config{ClientID: "cid", ClientSecret: "SECRET-wrong", TokenURL: srv.URL + PathToken, AuthStyle: style}
		_, err = bad.Token(ctx)
		if !errors.As(err, &re) || re.Response.StatusCode != 401 || !strings.Contains(err.Error(), "invalid client secret SECRET-wrong") {
			t.Errorf("style %v: wrong secret: %v, want a 401 that echoes it", style, err)
		}
	}

	// No token, or an expired one: 401, the header echoed.
	w := get(t, s, PathPageNumber)
	if w.Code != 401 || !strings.Contains(w.Body.String(), "invalid_token") {
		t.Errorf("a listing without a token: %d %s", w.Code, w.Body)
	}
	tok, err := (&clientcredentials.Config{ClientID: "cid", ClientSecret: "SECRET-good", TokenURL: srv.URL + PathToken}).Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.ExpireTokens()
	req := httptest.NewRequest(http.MethodGet, PathPageNumber, nil)
	tok.SetAuthHeader(req)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), tok.AccessToken) {
		t.Errorf("a listing with an expired token: %d %s, want 401 echoing the token", rec.Code, rec.Body)
	}

	// Fail answers every token request with its status and the echo.
	for _, status := range []int{400, 401, 500} {
		f := New(Config{OAuth: OAuth{ClientID: "cid", ClientSecret: "SECRET-good", Fail: status}})
		fsrv := httptest.NewServer(f)
		fctx := context.WithValue(ctx, oauth2.HTTPClient, fsrv.Client())
		_, err := (&clientcredentials.Config{ClientID: "cid", ClientSecret: "SECRET-good", TokenURL: fsrv.URL + PathToken}).Token(fctx)
		fsrv.Close()
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response.StatusCode != status || !strings.Contains(string(re.Body), "SECRET-good") {
			t.Errorf("Fail %d: %v, want that status with the secret echoed", status, err)
		}
	}
}
