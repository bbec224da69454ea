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
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.pos.String()); diff != "" {
			t.Errorf("%#v.String() (-want +got):\n%s", tt.pos, diff)
		}
	}
}
