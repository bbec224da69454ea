package strategies

import "strings"

// Link is one link of an RFC 8288 Link header field, such as
// <https://api.github.com/repos/x/y/issues?page=3>; rel="next".
type Link struct {
	// URL is the target as written between < and >, not resolved.
	URL string
	// Rel lists the relation types, lower-cased, such as "next" and
	// "last" for rel="next last".
	Rel []string
	// Params holds the other parameters by lower-cased name, unquoted.
	// A parameter given twice keeps its first value, as the RFC says.
	Params map[string]string
}

// ParseLinkHeader parses Link header field values, one per header line, each
// holding any number of comma-separated links. It accepts what RFC 8288
// allows: commas and semicolons inside <...>, quoted parameters with
// escapes, relation lists, several Link lines. A malformed link is skipped
// and the parser goes on with the next; it never fails.
func ParseLinkHeader(values ...string) []Link {
	var links []Link
	for _, v := range values {
		links = parseLinks(links, v)
	}
	return links
}

func parseLinks(links []Link, s string) []Link {
	i := 0
	for i < len(s) {
		i = skipSpaceComma(s, i)
		if i >= len(s) {
			break
		}
		if s[i] != '<' {
			i = skipLinkValue(s, i)
			continue
		}
		end := strings.IndexByte(s[i+1:], '>')
		if end < 0 {
			break // an unterminated target: nothing after it can be read
		}
		l := Link{URL: strings.TrimSpace(s[i+1 : i+1+end])}
		i += end + 2
		ok := true
		relSeen := false
		for {
			i = skipSpace(s, i)
			if i >= len(s) || s[i] == ',' {
				break
			}
			if s[i] != ';' {
				// Junk between parameters: drop this link.
				ok = false
				i = skipLinkValue(s, i)
				break
			}
			i = skipSpace(s, i+1)
			start := i
			for i < len(s) && isTokenChar(s[i]) {
				i++
			}
			name := lowerASCII(s[start:i])
			i = skipSpace(s, i)
			var value string
			if i < len(s) && s[i] == '=' {
				i = skipSpace(s, i+1)
				if i < len(s) && s[i] == '"' {
					value, i = quoted(s, i)
				} else {
					start := i
					for i < len(s) && isTokenChar(s[i]) {
						i++
					}
					value = s[start:i]
				}
			}
			switch {
			case name == "":
			case name == "rel":
				if !relSeen {
					relSeen = true
					l.Rel = relTypes(value)
				}
			default:
				if _, dup := l.Params[name]; !dup {
					if l.Params == nil {
						l.Params = make(map[string]string)
					}
					l.Params[name] = value
				}
			}
		}
		if ok {
			links = append(links, l)
		}
	}
	return links
}

// relTypes splits a rel value into lower-cased relation types.
func relTypes(v string) []string {
	f := strings.Fields(lowerASCII(v))
	if len(f) == 0 {
		return nil
	}
	return f
}

// isTokenChar reports whether c may appear in an unquoted parameter name or
// value: anything but white space, separators and quotes.
func isTokenChar(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ';', ',', '=', '"', '<', '>':
		return false
	}
	return true
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

func skipSpaceComma(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n' || s[i] == ',') {
		i++
	}
	return i
}

// skipLinkValue skips to the comma that ends the current link, outside
// quotes and angle brackets.
func skipLinkValue(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ',':
			return i
		case '"':
			_, i = quoted(s, i)
			continue
		case '<':
			if end := strings.IndexByte(s[i:], '>'); end >= 0 {
				i += end + 1
				continue
			}
			return len(s)
		}
		i++
	}
	return i
}

// quoted reads the quoted string that starts at s[i] == '"', resolving
// backslash escapes, and returns it and the index after it. An unterminated
// string runs to the end.
func quoted(s string, i int) (string, int) {
	i++
	start := i
	for i < len(s) && s[i] != '"' && s[i] != '\\' {
		i++
	}
	if i < len(s) && s[i] == '"' {
		return s[start:i], i + 1
	}
	var b strings.Builder
	b.WriteString(s[start:i])
	for i < len(s) {
		switch c := s[i]; c {
		case '"':
			return b.String(), i + 1
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
		i++
	}
	return b.String(), i
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// findRel returns the URL of the first link with relation rel, or "".
func findRel(links []Link, rel string) string {
	for _, l := range links {
		for _, r := range l.Rel {
			if r == rel {
				return l.URL
			}
		}
	}
	return ""
}
