package strategies

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseLinkHeader(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   []Link
	}{
		{"github", []string{`<https://api.github.com/repositories/1/issues?page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last"`},
			[]Link{{URL: "https://api.github.com/repositories/1/issues?page=2", Rel: []string{"next"}},
				{URL: "https://api.github.com/repositories/1/issues?page=5", Rel: []string{"last"}}}},
		{"several header lines", []string{`</a?p=1>; rel=prev`, `</a?p=3>; rel=next`},
			[]Link{{URL: "/a?p=1", Rel: []string{"prev"}}, {URL: "/a?p=3", Rel: []string{"next"}}}},
		{"commas and semicolons in the URL", []string{`<https://x.test/q?ids=1,2,3;v=2>; rel="next"`},
			[]Link{{URL: "https://x.test/q?ids=1,2,3;v=2", Rel: []string{"next"}}}},
		{"rel list, case and params", []string{`<https://x.test/2>; REL="Next Last"; title="a, \"b\"; c"; type=text/html`},
			[]Link{{URL: "https://x.test/2", Rel: []string{"next", "last"},
				Params: map[string]string{"title": `a, "b"; c`, "type": "text/html"}}}},
		{"first rel wins", []string{`<a>; rel=prev; rel=next`}, []Link{{URL: "a", Rel: []string{"prev"}}}},
		{"spaces everywhere", []string{"  < /p/2 >\t;\trel = \"next\" ,  "}, []Link{{URL: "/p/2", Rel: []string{"next"}}}},
		{"malformed link skipped", []string{`garbage; rel=next, <b>; rel=next`}, []Link{{URL: "b", Rel: []string{"next"}}}},
		{"junk between params drops the link", []string{`<a> x; rel=next, <b>; rel=next`}, []Link{{URL: "b", Rel: []string{"next"}}}},
		{"unterminated URL", []string{`<a>; rel=next, <b; rel=next`}, []Link{{URL: "a", Rel: []string{"next"}}}},
		{"unterminated quote", []string{`<a>; rel="next`}, []Link{{URL: "a", Rel: []string{"next"}}}},
		{"no rel", []string{`<a>`}, []Link{{URL: "a"}}},
		{"empty", []string{"", " , "}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseLinkHeader(tt.values...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseLinkHeader(%q) mismatch (-want +got):\n%s", tt.values, diff)
			}
		})
	}
}

func TestFindRel(t *testing.T) {
	links := ParseLinkHeader(`<1>; rel="prev first", <2>; rel="next last"`, `<3>; rel=next`)
	if got := findRel(links, "next"); got != "2" {
		t.Errorf(`findRel(next) = %q, want "2"`, got)
	}
	if got := findRel(links, "self"); got != "" {
		t.Errorf(`findRel(self) = %q, want ""`, got)
	}
}

// formatLinks writes links back as a Link header value.
func formatLinks(links []Link) string {
	var b strings.Builder
	for i, l := range links {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("<" + l.URL + ">")
		if len(l.Rel) > 0 {
			b.WriteString("; rel=" + quote(strings.Join(l.Rel, " ")))
		}
		for _, k := range slices.Sorted(maps.Keys(l.Params)) {
			b.WriteString("; " + k + "=" + quote(l.Params[k]))
		}
	}
	return b.String()
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// FuzzLinkHeader checks that the parser never panics, that what it returns
// is well formed, and that writing the links back and parsing them again
// gives the same links.
func FuzzLinkHeader(f *testing.F) {
	f.Add(`<https://api.github.com/user/repos?page=3&per_page=100>; rel="next", <https://api.github.com/user/repos?page=50&per_page=100>; rel="last"`)
	f.Add(`<https://x.test/q?ids=1,2;v=2>; rel="next last"; title="a, \"b\""`)
	f.Add(`</relative>; rel=next`)
	f.Add(`<a>; rel=prev; rel=next; x; y=; ="z"`)
	f.Add(`<a`)
	f.Add(`"<a>", <b>; rel="`)
	f.Add(`<a>;;;,,,<b>;REL=NEXT`)
	f.Add("<\x00>; rel=\"\xff\"")
	f.Fuzz(func(t *testing.T, header string) {
		links := ParseLinkHeader(header)
		for _, l := range links {
			if strings.ContainsRune(l.URL, '>') || l.URL != strings.TrimSpace(l.URL) {
				t.Fatalf("URL %q is not a trimmed target", l.URL)
			}
			if l.Rel != nil && len(l.Rel) == 0 {
				t.Fatalf("empty non-nil Rel in %+v", l)
			}
			for _, r := range l.Rel {
				if r == "" || r != lowerASCII(r) || strings.ContainsAny(r, " \t\r\n") {
					t.Fatalf("bad relation type %q", r)
				}
			}
			for k := range l.Params {
				if k == "" || k == "rel" || k != lowerASCII(k) {
					t.Fatalf("bad parameter name %q", k)
				}
			}
		}
		again := ParseLinkHeader(formatLinks(links))
		if diff := cmp.Diff(links, again, cmpEmptyLinks); diff != "" {
			t.Fatalf("round trip of %q mismatch (-first +second):\n%s", header, diff)
		}
	})
}

var cmpEmptyLinks = cmp.FilterValues(func(a, b []Link) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())
