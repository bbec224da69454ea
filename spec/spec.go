package spec

import (
	"encoding/json"
	"fmt"
	"time"
)

// Spec is a connector described in a file: its streams, and the limits
// they share. It maps one-to-one onto the library: each stream is a
// strategy of package strategies (its Request, Response, Window and
// Limits, and the paging settings of the strategy itself), the
// paginate.Options of its run, the schema.Table it fills and, for a child
// stream, a connector.ChildOf.
type Spec struct {
	// Limits are what every stream shares: the requests in flight and the
	// rate of requests to each host (connector.Limits).
	Limits Shared `json:"limits,omitzero"`
	// Streams are the connector's streams, synced at once.
	Streams []Stream `json:"streams" jsonschema:"required,minItems=1"`

	lookup func(string) (string, bool) // the environment
	doc    *doc                        // the file it was read from, for positions; nil when built in Go
}

// Shared are the limits every stream and partition of the connector
// shares (connector.Limits).
type Shared struct {
	// InFlight is the most requests in flight at once, over every stream.
	// Zero means 16.
	InFlight int `json:"in_flight,omitempty" jsonschema:"minimum=0"`
	// Rate is the most requests a second sent to any one host; zero means
	// no limit.
	Rate float64 `json:"rate,omitempty" jsonschema:"minimum=0"`
	// Burst is how many requests to one host may go at once after a quiet
	// spell. Zero means 1.
	Burst int `json:"burst,omitempty" jsonschema:"minimum=0"`
	// MaxPause caps how long one Retry-After pauses the requests to a
	// host, such as "2m" (the default).
	MaxPause Duration `json:"max_pause,omitempty"`
}

// Stream is one stream: where its records come from, how its pages
// follow each other, and the table they fill.
type Stream struct {
	// Name names the stream, and its checkpoints: unique in the spec,
	// without "/".
	Name string `json:"name" jsonschema:"required,pattern=^[^/]+$"`
	// Table is the table the records fill (schema.Table): its name, its
	// primary key and the types of columns that the records' values
	// would not tell.
	Table Table `json:"table" jsonschema:"required"`
	// Parent makes the stream a child stream: one partition, with a
	// checkpoint of its own, for each record of the parent stream
	// (connector.ChildOf).
	Parent *Parent `json:"parent,omitempty"`
	// Request is what every request is built from (strategies.Request).
	Request Request `json:"request" jsonschema:"required"`
	// Paging is the pagination strategy and its own settings.
	Paging Paging `json:"paging" jsonschema:"required"`
	// Response says where a response keeps its records and how it tells
	// that the data has ended (strategies.Shape).
	Response Response `json:"response,omitzero"`
	// Window is the incremental window (strategies.Window).
	Window Window `json:"window,omitzero"`
	// Limits bound what a page may cost (strategies.Limits).
	Limits Limits `json:"limits,omitzero"`
	// Options are the run's options (paginate.Options).
	Options Options `json:"options,omitzero"`
}

// Table is the table a stream's records fill (schema.Table). Its columns
// are inferred from the records' values: a field becomes a column when it
// first holds a value, and a new field adds one (see docs/cli.md).
type Table struct {
	// Name is the table's name. Empty means the stream's name.
	Name string `json:"name,omitempty"`
	// PrimaryKey names the record fields that identify a record; the
	// sinks upsert by them.
	PrimaryKey []string `json:"primary_key" yaml:"primary_key,flow" jsonschema:"required,minItems=1"`
	// Columns declares the types of columns whose values would mislead,
	// by field name, such as {"price": "double"}; the others are
	// inferred. A key field not declared is a string column.
	Columns map[string]ColumnType `json:"columns,omitempty"`
}

// ColumnType is a column type of package schema, such as "utc_datetime".
type ColumnType string

// Parent says how a child stream's partitions come from its parent's
// records (connector.ChildOf).
type Parent struct {
	// Stream names the parent stream, a top-level stream of the spec.
	Stream string `json:"stream" jsonschema:"required"`
	// Key is the parent record's field that keys its partition, such as
	// "id". Empty means the parent's primary key.
	Key string `json:"key,omitempty"`
	// PathValues fills the {name} placeholders of the child's URL from
	// the parent record's fields, such as {"user_id": "id"} for
	// /users/{user_id}/orders.
	PathValues map[string]string `json:"path_values,omitempty"`
	// Every visits every parent on each sync; by default only the
	// parents changed since the last completed sync are visited.
	Every bool `json:"every,omitempty"`
}

// Request is what every request of a stream is built from
// (strategies.Request). Strings may hold ${NAME}, which is taken from the
// environment.
type Request struct {
	// URL is the endpoint of the first page, with {name} placeholders in
	// its path if any.
	URL string `json:"url" jsonschema:"required,minLength=1"`
	// Method is the request method. Empty means GET, or POST when the
	// request has a JSON body.
	Method string `json:"method,omitempty" jsonschema:"enum=GET,enum=POST,enum=PUT,enum=PATCH,enum=QUERY,enum=SEARCH"`
	// PathValues fills {name} placeholders of the URL's path.
	PathValues map[string]string `json:"path_values,omitempty"`
	// Query holds parameters sent with every request.
	Query map[string]string `json:"query,omitempty"`
	// Header holds headers sent with every request. A header that holds a
	// credential must take it from the environment: ${NAME}.
	Header map[string]string `json:"header,omitempty"`
	// Body, when set, is sent as JSON with every request, with the values
	// the strategy places in the body set in it.
	Body json.RawMessage `json:"body,omitempty"`
	// Auth sets the credentials of every request.
	Auth *Auth `json:"auth,omitempty"`
	// Secrets names more query parameters and headers whose values are
	// credentials, to be masked wherever they would show.
	Secrets []string `json:"secrets,omitempty"`
	// AllowHosts names hosts other than the URL's that next URLs and
	// redirects may lead to.
	AllowHosts []string `json:"allow_hosts,omitempty"`
}

// Auth is how requests are authenticated: exactly one of its fields. The
// credentials come from the environment only: each is written ${NAME}.
type Auth struct {
	// Bearer sends "Authorization: Bearer <token>".
	Bearer Secret `json:"bearer,omitempty"`
	// Basic sends HTTP basic authentication.
	Basic *BasicAuth `json:"basic,omitempty"`
	// APIKey sends a key in a header or a query parameter.
	APIKey *APIKey `json:"api_key,omitempty"`
	// OAuth2 sends the access tokens of an OAuth 2.0 client credentials
	// or refresh token flow.
	OAuth2 *OAuth2 `json:"oauth2,omitempty"`
}

// BasicAuth is HTTP basic authentication.
type BasicAuth struct {
	// Username is the user's name.
	Username string `json:"username" jsonschema:"required"`
	// Password is the password, from the environment: ${NAME}.
	Password Secret `json:"password" jsonschema:"required"`
}

// APIKey is a key sent in a header or a query parameter.
type APIKey struct {
	// Header names the header that carries the key, such as "X-API-Key".
	Header string `json:"header,omitempty"`
	// Query names the query parameter that carries the key.
	Query string `json:"query,omitempty"`
	// Value is the key, from the environment: ${NAME}.
	Value Secret `json:"value" jsonschema:"required"`
}

// OAuth2 is an OAuth 2.0 flow: client credentials, or a refresh token
// when RefreshToken is set.
type OAuth2 struct {
	// TokenURL is the token endpoint.
	TokenURL string `json:"token_url" jsonschema:"required,minLength=1"`
	// ClientID is the client's id.
	ClientID string `json:"client_id" jsonschema:"required"`
	// ClientSecret is the client's secret, from the environment: ${NAME}.
	ClientSecret Secret `json:"client_secret,omitempty"`
	// Scopes are the scopes asked for.
	Scopes []string `json:"scopes,omitempty"`
	// RefreshToken, when set, uses the refresh token flow from this
	// token, from the environment: ${NAME}.
	RefreshToken Secret `json:"refresh_token,omitempty"`
	// AuthStyle says how the client authenticates to the token endpoint:
	// "header" (HTTP basic) or "params" (in the form). Empty tries both.
	AuthStyle string `json:"auth_style,omitempty" jsonschema:"enum=header,enum=params"`
}

// Secret is a credential, written ${NAME} and taken from the environment
// variable NAME when the spec is used; a spec never holds one.
type Secret string

// Strategy names a pagination strategy of package strategies.
type Strategy string

// The strategies.
const (
	PageNumber Strategy = "page_number"
	Offset     Strategy = "offset"
	Cursor     Strategy = "cursor"
	NextToken  Strategy = "next_token"
)

// Strategies lists the strategies, in the order the documentation gives
// them.
var Strategies = []Strategy{PageNumber, Offset, Cursor, NextToken}

// Paging is the strategy and its own settings: those of
// strategies.PageNumber, Offset, Cursor or NextToken beyond the groups
// they share, with the same names. A setting of another strategy than the
// one named is an error.
//
// A parameter (size_param, page_param, ...) is written "name" for a query
// parameter, or "header:Name", "body:dotted.path" or "path:name", or
// "nowhere" for a value not sent.
type Paging struct {
	// Strategy is page_number, offset, cursor or next_token.
	Strategy Strategy `json:"strategy" jsonschema:"required,enum=page_number,enum=offset,enum=cursor,enum=next_token"`
	// Size is the page size to ask for; zero sends none.
	Size int `json:"size,omitempty" jsonschema:"minimum=0"`
	// SizeParam is where Size goes. Empty means the query parameter
	// "limit".
	SizeParam Param `json:"size_param,omitempty"`

	// PageParam is where the page number goes (page_number). Empty means
	// "page".
	PageParam Param `json:"page_param,omitempty"`
	// FirstPage is the number of the first page (page_number). Zero
	// means 1, or 0 with zero_based.
	FirstPage int64 `json:"first_page,omitempty" jsonschema:"minimum=0"`
	// ZeroBased says the first page is page 0 (page_number).
	ZeroBased bool `json:"zero_based,omitempty"`
	// OmitFirstPage leaves the page parameter out of the first request
	// (page_number).
	OmitFirstPage bool `json:"omit_first_page,omitempty"`
	// PagePath is the path of the page number the server says it served
	// (page_number).
	PagePath string `json:"page_path,omitempty"`
	// MaxPage is the last page fetched (page_number).
	MaxPage int64 `json:"max_page,omitempty" jsonschema:"minimum=0"`

	// OffsetParam is where the offset goes (offset). Empty means
	// "offset".
	OffsetParam Param `json:"offset_param,omitempty"`
	// MaxOffset is an offset the run does not go past (offset).
	MaxOffset int64 `json:"max_offset,omitempty" jsonschema:"minimum=0"`
	// Overlap starts every page after the first this many records early,
	// to find the previous page's last records (offset).
	Overlap int `json:"overlap,omitempty" jsonschema:"minimum=0"`

	// CursorParam is where the cursor goes (cursor).
	CursorParam Param `json:"cursor_param,omitempty"`
	// CursorField is the record field whose value in the last record of
	// a page is the next page's cursor, such as "id" (cursor).
	CursorField string `json:"cursor_field,omitempty"`
	// CursorParams, for a compound cursor, maps each parameter of the
	// next request to the last record's field it takes (cursor).
	CursorParams map[string]string `json:"cursor_params,omitempty"`
	// Inclusive says the server's filter includes the cursor value
	// (cursor).
	Inclusive bool `json:"inclusive,omitempty"`

	// TokenPath is the body path of the next page's token (next_token).
	TokenPath string `json:"token_path,omitempty"`
	// TokenHeader is a response header with the next page's token
	// (next_token).
	TokenHeader string `json:"token_header,omitempty"`
	// NextURLPath is the body path of the next page's URL (next_token).
	NextURLPath string `json:"next_url_path,omitempty"`
	// LinkRel follows the Link header's link of this relation, such as
	// "next" (next_token).
	LinkRel string `json:"link_rel,omitempty"`
	// TokenParam is where a token goes on the next request (next_token).
	TokenParam Param `json:"token_param,omitempty"`
	// FirstToken is the token of the first request (next_token).
	FirstToken string `json:"first_token,omitempty"`
	// ByPosition says the tokens or next URLs count records, such as
	// next URLs with ?page=3 (next_token).
	ByPosition bool `json:"by_position,omitempty"`
}

// Param says where a value goes: "name" (a query parameter),
// "query:name", "header:Name", "body:dotted.path", "path:name", or
// "nowhere".
type Param string

// Response says where a response keeps its records, its totals and its
// has-more flag (strategies.Shape). Paths are dotted lists of object
// keys, such as "data" or "meta.total".
type Response struct {
	// ItemsPath is the path of the records; empty means the body is the
	// array.
	ItemsPath string `json:"items_path,omitempty"`
	// TotalItemsPath is the path of the total number of records.
	TotalItemsPath string `json:"total_items_path,omitempty"`
	// TotalPagesPath is the path of the total number of pages.
	TotalPagesPath string `json:"total_pages_path,omitempty"`
	// TotalItemsHeader names a header with the total number of records,
	// such as "X-Total-Count".
	TotalItemsHeader string `json:"total_items_header,omitempty"`
	// TotalPagesHeader names a header with the total number of pages.
	TotalPagesHeader string `json:"total_pages_header,omitempty"`
	// HasMorePath is the path of a value that says whether more pages
	// follow, read as has_more_if says.
	HasMorePath string `json:"has_more_path,omitempty"`
	// HasMoreIf says how to read has_more_path: more_if_true (the
	// default, Stripe's has_more), more_if_false (Salesforce's done) or
	// more_if_not_null (json-server 1.x's next).
	HasMoreIf string `json:"has_more_if,omitempty" jsonschema:"enum=more_if_true,enum=more_if_false,enum=more_if_not_null"`
	// EmptyPageEnds says an empty page ends the data even when the totals
	// or a next token say more follow.
	EmptyPageEnds bool `json:"empty_page_ends,omitempty"`
	// ShortPageEnds says a page with fewer records than the size is the
	// last.
	ShortPageEnds bool `json:"short_page_ends,omitempty"`
}

// Window is the incremental window a sync reads (strategies.Window):
// the records changed since the last sync's mark, which
// options.high_water names.
type Window struct {
	// SinceParam is where the lower bound goes, such as "updated_since".
	SinceParam Param `json:"since_param,omitempty"`
	// SinceDefault is the lower bound of the first sync.
	SinceDefault string `json:"since_default,omitempty"`
	// UntilParam is where the upper bound goes: the time at the sync's
	// start.
	UntilParam Param `json:"until_param,omitempty"`
	// BoundsOnFirstOnly sends the bounds on the first request only.
	BoundsOnFirstOnly bool `json:"bounds_on_first_only,omitempty"`
	// Lookback moves the lower bound back by this much, such as "1h".
	Lookback Duration `json:"lookback,omitempty"`
	// TimeLayout is the Go layout of the bounds; empty means RFC 3339.
	TimeLayout string `json:"time_layout,omitempty"`
	// NewestFirst says the API serves records newest first: paging
	// stops at the first record below the lower bound, by the
	// high_water field.
	NewestFirst bool `json:"newest_first,omitempty"`
}

// Limits bound what the requests of a stream may cost
// (strategies.Limits).
type Limits struct {
	// MaxBody caps the size of a response body in bytes. Zero means 64
	// MiB.
	MaxBody int64 `json:"max_body,omitempty"`
	// MaxItems caps the records one page may hold.
	MaxItems int `json:"max_items,omitempty"`
	// Timeouts bound each attempt's waits.
	Timeouts Timeouts `json:"timeouts,omitzero"`
	// Rate is the most requests a second of this stream; zero means no
	// limit of its own.
	Rate float64 `json:"rate,omitempty" jsonschema:"minimum=0"`
}

// Timeouts bound how long one attempt may wait (strategies.Timeouts).
type Timeouts struct {
	// Connect bounds opening a connection, such as "10s".
	Connect Duration `json:"connect,omitempty"`
	// Header bounds the wait for the response's headers, such as "60s".
	Header Duration `json:"header,omitempty"`
	// Idle bounds each wait for more of the body, such as "60s".
	Idle Duration `json:"idle,omitempty"`
}

// Options are the options of a stream's runs (paginate.Options).
type Options struct {
	// HighWater is the record field that is the incremental mark, such
	// as "updatedAt": the largest committed is the next sync's since.
	// Its values must sort as they order, such as RFC 3339 timestamps in
	// UTC.
	HighWater string `json:"high_water,omitempty"`
	// Concurrency is how many pages are fetched at once once the first
	// page tells the total. Zero means 4.
	Concurrency int `json:"concurrency,omitempty" jsonschema:"minimum=0"`
	// Checks are what the runner checks pages against besides their
	// fingerprints (paginate.Checks).
	Checks Checks `json:"checks,omitzero"`
	// Limits stop each run early, with the checkpoint at the next page
	// (paginate.Limits).
	Limits RunLimits `json:"limits,omitzero"`
	// Retry is the policy for pages whose fetch failed (paginate.Retry).
	Retry Retry `json:"retry,omitzero"`
}

// Retry is the policy for a page whose fetch failed with an error worth
// another attempt, such as a 503, a 429 or a connection reset
// (paginate.Retry).
type Retry struct {
	// MaxAttempts is how many times a page is tried in all; 1 disables
	// retries. Zero means 6.
	MaxAttempts int `json:"max_attempts,omitempty" jsonschema:"minimum=0"`
	// MaxElapsed bounds one page's attempts and waits, such as "10m".
	// Empty means 5 minutes.
	MaxElapsed Duration `json:"max_elapsed,omitempty"`
	// MaxRetryAfter caps a wait the server asks for (Retry-After), such
	// as "5m". Empty means 2 minutes.
	MaxRetryAfter Duration `json:"max_retry_after,omitempty"`
}

// Checks say what the runner checks pages against (paginate.Checks).
type Checks struct {
	// TrackKeys remembers every key committed in a sync and reports a
	// key seen twice as drift, so that the next sync reads again from
	// the same mark. It is on for an incremental sync by page number or
	// offset.
	TrackKeys bool `json:"track_keys,omitempty"`
	// RepeatedPageEnds takes a page that repeats the page before it for
	// the end of the data, as servers that answer past the end with
	// their last page need.
	RepeatedPageEnds bool `json:"repeated_page_ends,omitempty"`
}

// RunLimits stop a run early (paginate.Limits).
type RunLimits struct {
	// MaxPages stops each run after this many pages.
	MaxPages int `json:"max_pages,omitempty" jsonschema:"minimum=0"`
	// MaxItems stops each run after the page that brings the records to
	// this many.
	MaxItems int64 `json:"max_items,omitempty" jsonschema:"minimum=0"`
}

// Duration is a Go duration, such as "90s", "15m" or "1h30m".
type Duration time.Duration

// MarshalText writes the duration as Go does, such as "1h0m0s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a duration such as "90s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 90s or 1h30m", b)
	}
	*d = Duration(v)
	return nil
}
