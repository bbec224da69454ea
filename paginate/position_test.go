package paginate_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
)

func TestPositionString(t *testing.T) {
	long := "https://api.example.com/v1/users?cursor=" + "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz0123456789"
	tests := []struct {
		pos  paginate.Position
		want string
	}{
		{paginate.Position{}, "start"},
		{paginate.Position{Since: "2024-01-01T00:00:00Z"}, "start since 2024-01-01T00:00:00Z"},
		{paginate.Position{Page: 3}, "page 3"},
		{paginate.Position{Offset: 200}, "offset 200"},
		{paginate.Position{Page: 2, Offset: 50}, "page 2, offset 50"},
		{paginate.Position{Token: `{"v":"2024-01-01T00:00:00Z","k":["a"]}`}, `token {"v":"2024-01-01T00:00:00Z","k":["a"]}`},
		{paginate.Position{Token: "two words"}, `token "two words"`},
		{paginate.Position{Token: long}, "token " + long[:77] + "..."},
		// The cut falls inside "é" (bytes 76 and 77): it moves back to
		// the rune's start, so the text stays valid UTF-8.
		{paginate.Position{Token: strings.Repeat("a", 76) + strings.Repeat("é", 10)}, "token " + strings.Repeat("a", 76) + "..."},
		// A URL's secret parameters are redacted, before the cut.
		{paginate.Position{Token: "/v1/x?page=2&access_token=s3cr3t&Subscription-Key=k3y&cursor=c"},
			"token /v1/x?page=2&access_token=REDACTED&Subscription-Key=REDACTED&cursor=c"},
		{paginate.Position{Token: "https://api.test/x?sig=" + strings.Repeat("s", 100)}, "token https://api.test/x?sig=REDACTED"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.pos.String()); diff != "" {
			t.Errorf("%#v.String() (-want +got):\n%s", tt.pos, diff)
		}
	}
}

func TestSecretName(t *testing.T) {
	secret := []string{"key", "KEY", "api_key", "apiKey", "X-Api-Key", "access_token", "Access-Token", "token",
		"Private-Token", "X-Auth-Token", "refresh_token", "client_secret", "password", "sig", "X-Amz-Signature",
		"X-Amz-Credential", "X-Amz-Security-Token", "auth_key", "app_key", "appkey", "AppKey", "subscription-key",
		"Ocp-Apim-Subscription-Key", "client_key", "license_key", "application_key", "Authorization",
		"Proxy-Authorization", "Cookie", "session", "PHPSESSID", "code", "jwt", "consumer_key", "bearer"}
	public := []string{"page", "page_token", "pageToken", "nextPageToken", "next_token", "continuation_token",
		"cursor", "sort_key", "monkey", "keyword", "limit", "updated_since", "sync_token", "starting_after", "offset"}
	for _, n := range secret {
		if !paginate.SecretName(n) {
			t.Errorf("SecretName(%q) = false, want true", n)
		}
	}
	for _, n := range public {
		if paginate.SecretName(n) {
			t.Errorf("SecretName(%q) = true, want false", n)
		}
	}
}
