package strategies

import (
	"strings"
	"testing"
)

func TestBodyTemplate(t *testing.T) {
	tests := []struct {
		name, body string
		paths      []string
		values     []string // "" leaves the slot unset
		want       string
		wantErr    string
	}{
		{name: "unset fields leave the body as it was", body: `{"b":9007199254740993,"a":[1.0]}`, paths: []string{"x.y", "b"},
			values: []string{"", ""}, want: `{"b":9007199254740993,"a":[1.0]}`},
		{name: "replace in place", body: `{"b":1,"a":2}`, paths: []string{"b"}, values: []string{`"t"`}, want: `{"b":"t","a":2}`},
		{name: "add at the end", body: `{"b":1}`, paths: []string{"c"}, values: []string{`7`}, want: `{"b":1,"c":7}`},
		{name: "create nested objects", body: `{}`, paths: []string{"a.b.c", "a.d"}, values: []string{`1`, `2`},
			want: `{"a":{"b":{"c":1},"d":2}}`},
		{name: "into an existing object", body: `{"p":{"size":10},"q":1}`, paths: []string{"p.token"}, values: []string{`"x"`},
			want: `{"p":{"size":10,"token":"x"},"q":1}`},
		{name: "into null", body: `{"p":null}`, paths: []string{"p.token"}, values: []string{`"x"`}, want: `{"p":{"token":"x"}}`},
		{name: "null kept when unset", body: `{"p":null}`, paths: []string{"p.token"}, values: []string{""}, want: `{"p":null}`},
		{name: "escaped key", body: `{"a\u003cb":1}`, paths: []string{"a<b"}, values: []string{`2`}, want: `{"a\u003cb":2}`},
		{name: "empty body, nothing set", body: `{}`, paths: []string{"a.b"}, values: []string{""}, want: `{}`},
		{name: "not an object", body: `[1]`, paths: []string{"a"}, wantErr: "not a JSON object"},
		{name: "through a string", body: `{"a":"s"}`, paths: []string{"a.b"}, wantErr: "is not an object"},
		{name: "twice", body: `{}`, paths: []string{"a", "a"}, wantErr: "set twice"},
		{name: "inside another", body: `{}`, paths: []string{"a", "a.b"}, wantErr: "inside another field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var paths [][]string
			for _, p := range tt.paths {
				paths = append(paths, strings.Split(p, "."))
			}
			tmpl, err := compileBody([]byte(tt.body), paths)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			vals := make([][]byte, len(tt.values))
			for i, v := range tt.values {
				if v != "" {
					vals[i] = []byte(v)
				}
			}
			if got := string(tmpl.render(vals)); got != tt.want {
				t.Errorf("render = %s, want %s", got, tt.want)
			}
		})
	}
}
