package strategies

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pagekit/pagekit/paginate"
)

// Expiry describes a response by which an API says that a position it
// issued (a next URL, a token, a scroll id, a query locator) has expired:
// its status, a text its body holds, or both, such as Salesforce's
// {Status: 400, Body: "INVALID_QUERY_LOCATOR"} or Elasticsearch's
// {Status: 404, Body: "search_context_missing_exception"}.
//
// A request at a position the API issued (every request of a sync but its
// first) that gets such a response fails with an error that matches
// paginate.ErrPositionExpired, and paginate.Run restarts the sync from its
// last completed mark. See NextToken.Expired.
type Expiry struct {
	// Status is the response's status, such as 400 or 404. Zero means
	// any status outside 2xx.
	Status int
	// Body is a text the first 512 bytes of the body hold, such as
	// "INVALID_QUERY_LOCATOR", matched as it is. Empty means any body.
	Body string
}

// matches reports whether the failed response herr is one e describes.
func (e Expiry) matches(herr *HTTPError) bool {
	if herr.StatusCode == 0 || herr.StatusCode >= 200 && herr.StatusCode <= 299 {
		return false
	}
	return (e.Status == 0 || e.Status == herr.StatusCode) && (e.Body == "" || strings.Contains(string(herr.Body), e.Body))
}

// expired returns err, the error of a request at a position the API
// issued, as an error that matches paginate.ErrPositionExpired, permanent,
// when its response is one of rules; else err as it is.
func expired(err error, rules []Expiry) error {
	var herr *HTTPError
	if len(rules) == 0 || !errors.As(err, &herr) {
		return err
	}
	for _, r := range rules {
		if r.matches(herr) {
			herr.Err = fmt.Errorf("%w (NextToken.Expired)", paginate.ErrPositionExpired)
			herr.Delay = 0
			return paginate.Permanent(herr)
		}
	}
	return err
}
