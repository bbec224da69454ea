package paginate

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Position says where a page starts. It is what a checkpoint stores: a
// page number, an offset, or an opaque token (a cursor, a next-page token or
// a next URL), plus the incremental lower bound the sync started from.
//
// Position is comparable, so the runner can remember every position it has
// requested and detect loops, and it encodes to JSON, so any store can keep
// it. The zero Position is the start of the data: a paginator fetches its
// first page for it.
type Position struct {
	// Page is a page number, for page-number paginators.
	Page int64 `json:"page,omitempty"`
	// Offset is a record offset, for offset paginators.
	Offset int64 `json:"offset,omitempty"`
	// Token is an opaque token, cursor or URL, for token paginators.
	Token string `json:"token,omitempty"`
	// Since is the high-water mark this sync started from (the
	// updated_since of an incremental sync), empty for a full sync. The
	// runner sets it on every position it passes to Fetch, so a paginator
	// reads it but never needs to carry it into Page.Next.
	Since string `json:"since,omitempty"`
}

// IsStart reports whether p is the start of the data: no page, offset or
// token, whatever its Since.
func (p Position) IsStart() bool {
	return p.Page == 0 && p.Offset == 0 && p.Token == ""
}

// String returns a short human form of p for logs and errors, such as
// "page 3", "offset 200" or "token abc". A token is quoted only when it
// holds spaces or unprintable characters, so a JSON cursor stays readable.
func (p Position) String() string {
	var s string
	switch {
	case p.Token != "":
		t := p.Token
		if len(t) > 80 {
			cut := 77
			for cut > 0 && !utf8.RuneStart(t[cut]) {
				cut-- // do not split a rune: the text must stay valid UTF-8
			}
			t = t[:cut] + "..."
		}
		if plain(t) {
			s = "token " + t
		} else {
			s = "token " + strconv.Quote(t)
		}
	case p.Offset != 0:
		s = "offset " + strconv.FormatInt(p.Offset, 10)
	case p.Page != 0:
		s = "page " + strconv.FormatInt(p.Page, 10)
	default:
		s = "start"
	}
	if p.Page != 0 && (p.Token != "" || p.Offset != 0) {
		s = fmt.Sprintf("page %d, %s", p.Page, s)
	}
	if p.Since != "" {
		s += " since " + p.Since
	}
	return s
}

// plain reports whether t prints unambiguously without quotes.
func plain(t string) bool {
	for _, r := range t {
		if r == ' ' || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
