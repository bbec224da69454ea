package mockapi

import (
	"net/http"
	"strconv"
	"strings"
)

// Variants of the page-number listing in shapes real servers use, for
// clients to be tested against.
const (
	// PathLinkRelative is PathLinkHeader with relative URLs in its Link
	// header (</pagination/link_relative?...&page=2>; rel="next"), as
	// servers behind a proxy that do not know their public host send
	// them. A client resolves them against the request's URL.
	PathLinkRelative = "/pagination/link_relative"

	// PathIDs lists record ids only, as a JSON array of strings:
	// {"data": ["<uuid>", ...], "page": 1, "total_pages": 4}, with the
	// parameters and paging of PathPageNumber.
	PathIDs = "/pagination/ids"
)

func linkRelative(s *Server, w http.ResponseWriter, r *http.Request, b []byte) ([]byte, error) {
	b, err := linkHeader(s, w, r, b)
	if err != nil {
		return b, err
	}
	// linkHeader's URLs are absolute, on the request's own host.
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	h := w.Header()
	h.Set("Link", strings.ReplaceAll(h.Get("Link"), "<"+scheme+"://"+r.Host, "<"))
	return b, nil
}

func idList(s *Server, _ http.ResponseWriter, r *http.Request, b []byte) ([]byte, error) {
	return s.withListing(r, b, "per_page", "page", listParams, func(l listing) ([]byte, error) {
		q, size, v := l.q, l.size, l.v
		b = append(b, `{"data":[`...)
		off := pageOffset(q.start, size, len(v))
		for k := off; k < min(off+size, len(v)); k++ {
			i := v[k]
			if q.desc {
				i = v[len(v)-1-k]
			}
			if k > off {
				b = append(b, ',')
			}
			b = append(appendUUID(append(b, '"'), s.data.recs[i].id), '"')
		}
		b = append(b, `],"page":`...)
		b = strconv.AppendInt(b, int64(q.start), 10)
		b = append(b, `,"total_pages":`...)
		b = strconv.AppendInt(b, int64(totalPages(len(v), size)), 10)
		return append(b, "}\n"...), nil
	})
}
