package detect

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/pagekit/pagekit/spec"
)

// Spec returns the proposed spec: one stream.
func (r *Report) Spec() *spec.Spec {
	return &spec.Spec{Streams: []spec.Stream{r.Stream}}
}

// YAML returns the proposed spec as a YAML file whose comments say what
// was found, how sure the proposal is, what could not be known and, when
// the responses were ambiguous, the candidates.
func (r *Report) YAML() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# yaml-language-server: $schema=%s\n", spec.SchemaURL)
	fmt.Fprintf(&b, "#\n# pagekit detect %s\n#\n", r.URL)
	for _, a := range r.Ambiguous {
		comment(&b, "AMBIGUOUS: "+a, "")
	}
	for _, w := range r.Warnings {
		comment(&b, "WARNING: "+w, "")
	}
	comment(&b, "Pagination: "+r.Style+".", "")
	comment(&b, fmt.Sprintf("Confidence: %s: %s.", r.Confidence, r.Why), "")
	b.WriteString("# Found:\n")
	for _, f := range r.Found {
		comment(&b, "- "+f, "    ")
	}
	if len(r.Unknown) > 0 {
		b.WriteString("# Not known (set by hand):\n")
		for _, u := range r.Unknown {
			comment(&b, "- "+u, "    ")
		}
	}
	if mark := r.mark(); mark != "" && r.Stream.Window.SinceParam == "" {
		b.WriteString("# To sync incrementally, add to the stream, with the API's own parameter:\n")
		b.WriteString("#     window:\n#       since_param: updated_since   # the API's filter: records changed at or after a time\n")
		fmt.Fprintf(&b, "#     options:\n#       high_water: %s\n", mark)
	}
	b.WriteString("\n")
	y, err := yaml.MarshalWithOptions(r.Spec(), yaml.IndentSequence(true), yaml.UseJSONMarshaler())
	if err != nil {
		return nil, err
	}
	b.Write(y)
	return b.Bytes(), nil
}

// mark returns the incremental field found, if any.
func (r *Report) mark() string {
	for _, f := range r.Found {
		if rest, ok := strings.CutPrefix(f, "incremental field: "); ok {
			name, _, _ := strings.Cut(rest, " ")
			return name
		}
	}
	return ""
}

// comment writes s as comment lines of at most about 110 columns, the
// lines after the first indented by indent.
func comment(b *bytes.Buffer, s, indent string) {
	const width = 110
	line := "#"
	if strings.HasPrefix(s, "- ") {
		line = "#   "
	} else {
		line = "# "
	}
	prefix := line
	words := strings.Fields(s)
	cur := prefix
	for i, w := range words {
		if i > 0 && len(cur)+1+len(w) > width {
			b.WriteString(strings.TrimRight(cur, " ") + "\n")
			cur = prefix + indent
		} else if i > 0 {
			cur += " "
		}
		cur += w
	}
	b.WriteString(strings.TrimRight(cur, " ") + "\n")
}
