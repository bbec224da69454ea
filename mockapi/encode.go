package mockapi

import (
	"time"
	"unicode/utf8"
)

// Responses are built by appending bytes, not with encoding/json: a page is
// a handful of constant fragments around records that each encode with a few
// appends, so a page of 100 costs microseconds and no reflection.

const hexDigits = "0123456789abcdef"

// appendUUID appends id in the canonical 8-4-4-4-12 form.
func appendUUID(b []byte, id [16]byte) []byte {
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

// appendTime appends the Unix time sec as "2006-01-02T15:04:05Z".
func appendTime(b []byte, sec int64) []byte {
	t := time.Unix(sec, 0).UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(mo), 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, mi, 2)
	b = append(b, ':')
	b = appendDigits(b, s, 2)
	return append(b, 'Z')
}

// appendRecord appends the JSON object of r, whose text is p, with the keys
// in the contract's order.
func appendRecord(b []byte, r *rec, p *person) []byte {
	b = append(b, `{"id":"`...)
	b = appendUUID(b, r.id)
	b = append(b, `","name":"`...)
	b = p.appendName(b)
	b = append(b, `","email":"`...)
	b = p.appendEmail(b)
	b = append(b, `","address":"`...)
	b = p.appendAddress(b, `\n`)
	b = append(b, `","company":"`...)
	b = p.appendCompany(b)
	b = append(b, `","job":"`...)
	b = p.appendJob(b)
	b = append(b, `","createdAt":"`...)
	b = appendTime(b, r.created)
	b = append(b, `","updatedAt":"`...)
	b = appendTime(b, r.updated)
	return append(b, `"}`...)
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// parseUUID parses the canonical 8-4-4-4-12 hex form, either case.
func parseUUID(s string) ([16]byte, bool) {
	var id [16]byte
	if len(s) != 36 {
		return id, false
	}
	j := 0
	for i := 0; i < len(s); {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return id, false
			}
			i++
			continue
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return id, false
		}
		id[j] = hi<<4 | lo
		j++
		i += 2
	}
	return id, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
