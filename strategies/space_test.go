package strategies

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// refCompact is spaceReader's rule one byte at a time: outside strings,
// keep at most maxSpaceRun bytes of each run of white space; a backslash
// in a string escapes the next byte.
func refCompact(body []byte) []byte {
	var out []byte
	inString, escaped, run := false, false, 0
	for _, c := range body {
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
		case inString:
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if run >= maxSpaceRun {
				continue
			}
			run++
		case c == '"':
			inString, run = true, 0
		default:
			run = 0
		}
		out = append(out, c)
	}
	return out
}

// FuzzSpaceReader checks spaceReader against refCompact, the body read
// whole and in chunks of every size up to 17 bytes, so that every string,
// escape and run of white space is cut at every place.
func FuzzSpaceReader(f *testing.F) {
	sp := strings.Repeat(" ", 70)
	for _, s := range []string{
		`{"a":"b","c":["d\"e",1,"f\\"],"g":"h\\\"i"}`,
		`{"a":"` + sp + `"` + sp + `,` + "\n\t" + sp + `"b":"\\\\\\\\","c":"x\\\\\"y"}`,
		`"\\` + sp + `\"` + sp + `"` + sp,
		`["\u005c", "\\", "\\\\", "\"\\\"", "` + sp + `\\"]` + sp,
		`"unterminated \` + sp,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		want := refCompact(body)
		for size := 0; size <= 17; size++ {
			var r io.Reader = bytes.NewReader(body)
			if size > 0 {
				r = iotest.OneByteReader(r) // at most one byte a Read
				if size > 1 {
					r = &chunkReader{b: body, n: size}
				}
			}
			got, err := io.ReadAll(&spaceReader{r: r})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("chunks of %d bytes of %q:\n got %q\nwant %q", size, body, got, want)
			}
		}
	})
}

// chunkReader reads b n bytes at a time.
type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	m := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[m:]
	return m, nil
}

// BenchmarkSpaceReader passes a page of 50 records through the reader
// that bounds white space runs, in the chunks encoding/json asks for.
func BenchmarkSpaceReader(b *testing.B) {
	body := benchBody(b)
	buf := make([]byte, 4096)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		r := &spaceReader{r: bytes.NewReader(body)}
		n := 0
		for {
			m, err := r.Read(buf)
			n += m
			if err == io.EOF {
				break
			}
		}
		if n != len(body) {
			b.Fatalf("%d bytes out of %d", n, len(body))
		}
	}
}
