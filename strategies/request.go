package strategies

import (
	"net/http"
	"net/url"
)

// Request says what every request of a sync is built from: the endpoint,
// its fixed parameters, headers and body, the credentials, and the client
// that sends it. The values a strategy sends itself (page number, size,
// bounds, cursor, token) are placed by its [Param]s on top of these.
type Request struct {
	// URL is the endpoint of the first page, with {name} placeholders in
	// its path if any. Its query parameters are sent with every request
	// the paginator builds.
	URL string

	// Method is the request method. Empty means GET, or POST when the
	// request has a JSON body (Body, or a value placed InBody).
	Method string

	// PathValues fills the {name} placeholders of URL's path that no
	// parameter fills, escaped as path segments, such as the parent's id
	// of a child stream's /users/{id}/orders.
	PathValues map[string]string

	// Query holds parameters added to every request built from URL; a
	// parameter the strategy sets itself replaces one of the same name.
	// Next URLs the API issues get only its secret parameters.
	Query url.Values

	// Header holds headers sent with every request.
	Header http.Header

	// Body, when set, is encoded as JSON and sent with every request, with
	// the values placed InBody set in it (a next URL the API issued gets
	// Body alone), byte for byte as it encodes.
	Body any

	// Auth, when set, sets credentials on every attempt, after Header:
	// Bearer, Basic, APIKeyHeader, APIKeyQuery, OAuth2,
	// ClientCredentials, RefreshToken, or an AuthFunc (see [Auth]).
	Auth Auth

	// Secrets names more query parameters and headers (any case) whose
	// values are credentials, beyond those paginate.SecretName knows:
	// they are masked in every error and kept out of positions.
	Secrets []string

	// AllowHosts names hosts other than URL's that next URLs and
	// redirects may lead to, such as "cdn.example.com:8443"; others are
	// refused with ErrOtherOrigin.
	AllowHosts []string

	// Client sends the requests; wrap one to record, sign or throttle
	// them. Nil means a shared client (see the package documentation).
	Client Doer
}
