// Command platforms is one connector run where connectors run: as an
// Airbyte source, a Singer tap (for Meltano) or a Fivetran partner SDK
// connector, from the same connector code. The connector syncs three
// streams of one REST API, as examples/connector does: the users (page
// number, incremental), the orders of each user (a child stream: one
// partition per user, each with its own state), and an event log (next
// token, incremental).
//
//	platforms airbyte spec
//	platforms airbyte check    --config config.json
//	platforms airbyte discover --config config.json
//	platforms airbyte read     --config config.json --catalog catalog.json [--state state.json]
//	platforms singer  --config config.json --discover > catalog.json
//	platforms singer  --config config.json [--catalog catalog.json] [--state state.json]
//	platforms fivetran [--port 50051]
//
// The configuration is the Config struct below, as JSON (a map of strings
// in Fivetran's setup form); its JSON Schema comes from the struct. An
// empty url serves the mock API from this process, so that every command
// above runs as it is: config.json can be {}. docs/protocols.md shows each
// platform's side.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/protocol"
	"github.com/pagekit/pagekit/protocol/airbyte"
	"github.com/pagekit/pagekit/protocol/fivetran"
	"github.com/pagekit/pagekit/protocol/singer"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/strategies"
)

// Config is the connector's configuration. The json tags name its fields,
// the jsonschema tags describe them to the platforms' forms; a field left
// out keeps its value in defaults.
type Config struct {
	URL         string  `json:"url,omitempty" jsonschema:"title=API URL,description=The API's base URL such as https://api.example.com. Empty serves a mock API from the connector's own process (a demo).,format=uri,example=http://127.0.0.1:5001"`
	Token       string  `json:"token,omitempty" jsonschema:"title=API token,description=Sent as a bearer token; empty sends none.,writeOnly=true"`
	PageSize    int     `json:"page_size" jsonschema:"title=Page size,description=Records a page.,minimum=1,maximum=50"`
	EveryUser   bool    `json:"every_user" jsonschema:"title=Every user's orders,description=Visit the orders of every user on each sync and not only of the users changed since the last one."`
	InFlight    int     `json:"in_flight" jsonschema:"title=Requests in flight,description=Requests at once over every stream.,minimum=1,maximum=64"`
	Rate        float64 `json:"rate" jsonschema:"title=Requests a second,description=Requests a second to the API's host; 0 is no limit.,minimum=0"`
	Concurrency int     `json:"concurrency" jsonschema:"title=Pages at once,description=Pages of one stream or user fetched at once.,minimum=1,maximum=16"`
	MockRecords int     `json:"mock_records,omitempty" jsonschema:"title=Mock users,description=Users of the mock API an empty URL serves.,minimum=1"`
}

// defaults are the values of the fields a configuration leaves out.
var defaults = Config{PageSize: 50, InFlight: 16, Concurrency: 4, MockRecords: 500}

// User, Order and Event are the API's records, decoded from JSON by their
// json tags; the pagekit tags mark the primary keys of their tables.
type User struct {
	ID        string    `json:"id" pagekit:",pk"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Company   string    `json:"company"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type Order struct {
	ID        string    `json:"id" pagekit:",pk"`
	UserID    string    `json:"userId"`
	Status    string    `json:"status"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type Event struct {
	ID        string    `json:"id" pagekit:",pk"`
	Type      string    `json:"type"`
	UserID    string    `json:"userId"`
	CreatedAt time.Time `json:"createdAt"`
}

// markLayout is the API's timestamp format for updated_since and
// created_since: fixed-width, so the marks sort as the times they stand for.
const markLayout = "2006-01-02T15:04:05Z"

func mark(t time.Time) string { return t.UTC().Format(markLayout) }

// source is the connector as the platforms see it.
var source = &protocol.Source[Config]{
	Name:             "pagekit-platforms",
	DocumentationURL: "https://github.com/pagekit/pagekit/blob/main/docs/protocols.md",
	Defaults:         defaults,
	Open:             open,
	Check:            check,
}

func main() {
	// SIGTERM, as platforms stop a sync, cancels ctx: every stream stops
	// after the pages being committed, their state written.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run serves the protocol the first argument names and returns the exit
// status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: platforms airbyte|singer|fivetran ARGS...")
		return 2
	}
	var err error
	switch args[0] {
	case "airbyte":
		err = airbyte.Run(ctx, source, args[1:], stdout)
	case "singer":
		err = singer.Run(ctx, source, args[1:], stdout, stderr)
	case "fivetran":
		err = fivetran.Serve(ctx, source, args[1:], stdout)
	default:
		fmt.Fprintf(stderr, "platforms: unknown protocol %q: airbyte, singer or fivetran\n", args[0])
		return 2
	}
	if err != nil {
		return 1
	}
	return 0
}

// base returns the API's base URL, starting the mock API when cfg has
// none; stop stops it.
func base(cfg Config) (u string, stop func(), err error) {
	if cfg.URL != "" {
		return strings.TrimSuffix(cfg.URL, "/"), func() {}, nil
	}
	srv, err := mockapi.Start(mockapi.Config{Records: cfg.MockRecords, Seed: 1})
	if err != nil {
		return "", nil, err
	}
	return srv.URL, func() { srv.Close() }, nil
}

// check fetches one user, which tells a wrong URL or token from a right
// one.
func check(ctx context.Context, cfg Config) error {
	u, stop, err := base(cfg)
	if err != nil {
		return err
	}
	defer stop()
	p := users(u, http.DefaultClient, cfg)
	p.Size = 1
	_, err = p.Fetch(ctx, paginate.Position{})
	return err
}

// open builds the connector of cfg, its streams' destinations out's
// sinks.
func open(ctx context.Context, cfg Config, out *protocol.Output) (*connector.Connector, error) {
	u, stop, err := base(cfg)
	if err != nil {
		return nil, err
	}
	context.AfterFunc(ctx, stop)
	lim := connector.NewLimiter(connector.Limits{InFlight: cfg.InFlight, Rate: cfg.Rate})
	client := lim.Client()

	userSink := protocol.NewSink(out, schema.Must(schema.Derive[User]("users")), protocol.SinkConfig[User]{Cursor: "updatedAt"})
	orderSink := protocol.NewSink(out, schema.Must(schema.Derive[Order]("orders")), protocol.SinkConfig[Order]{Cursor: "updatedAt"})
	eventSink := protocol.NewSink(out, schema.Must(schema.Derive[Event]("events")), protocol.SinkConfig[Event]{Cursor: "createdAt"})

	userStream := connector.NewStream("users", users(u, client, cfg), userSink, paginate.Options[User]{
		// The incremental mark, sent as updated_since next time; the
		// filter is inclusive, so the records at the mark come again.
		HighWater: func(u User) string { return mark(u.UpdatedAt) },
		Key:       func(u User) string { return u.ID },
		// Drift detection: a user updated while the sync pages through
		// the list shifts the pages; the next sync then reads again
		// from where this one started.
		Checks: paginate.Checks[User]{
			// Drift detection: a user updated while the sync pages through
			// the list shifts the pages; the next sync then reads again
			// from where this one started.
			TrackKeys: true,
			Order:     func(a, b User) int { return a.UpdatedAt.Compare(b.UpdatedAt) },
		},
		Concurrency: cfg.Concurrency,
	})
	orders := connector.NewChild("orders", connector.ChildOf[User, Order]{
		Parent: userStream,
		Key:    func(u User) string { return u.ID },
		Paginator: func(usr User) (paginate.Paginator[Order], error) {
			return pageNumber[Order](requestOf(u+mockapi.OrdersPath(url.PathEscape(usr.ID)), client, cfg, nil), cfg, "updated_since"), nil
		},
		Every: cfg.EveryUser,
	}, orderSink, paginate.Options[Order]{
		HighWater:   func(o Order) string { return mark(o.UpdatedAt) },
		Key:         func(o Order) string { return o.ID },
		Concurrency: cfg.Concurrency,
	})
	events := connector.NewStream("events", &strategies.NextToken[Event]{
		Request:    requestOf(u+mockapi.PathEvents, client, cfg, nil),
		Size:       cfg.PageSize,
		Response:   strategies.Shape[Event]{ItemsPath: "data"},
		Window:     strategies.Window[Event]{SinceParam: strategies.Query("created_since")},
		TokenPath:  "next_token",
		TokenParam: strategies.Query("next_token"),
	}, eventSink, paginate.Options[Event]{
		HighWater: func(e Event) string { return mark(e.CreatedAt) },
		Key:       func(e Event) string { return e.ID },
	})
	return connector.New(connector.Config{Limiter: lim, Logger: out.Logger()}, userStream, orders, events)
}

// users is the paginator of the users list, in ascending updatedAt order.
func users(base string, client strategies.Doer, cfg Config) *strategies.PageNumber[User] {
	return pageNumber[User](requestOf(base+mockapi.PathPageNumber, client, cfg, url.Values{"order_by": {"updatedAt"}, "order_type": {"asc"}}), cfg, "updated_since")
}

// requestOf is the request of one endpoint.
func requestOf(u string, client strategies.Doer, cfg Config, q url.Values) strategies.Request {
	h := strategies.Request{URL: u, Client: client, Query: q}
	if cfg.Token != "" {
		h.Auth = strategies.Bearer(cfg.Token)
	}
	return h
}

// pageNumber is the page-number paginator of one of the API's lists.
func pageNumber[T any](req strategies.Request, cfg Config, since string) *strategies.PageNumber[T] {
	return &strategies.PageNumber[T]{
		Request:   req,
		Size:      cfg.PageSize,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[T]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
			TotalItemsPath: "total_items",
		},
		Window: strategies.Window[T]{SinceParam: strategies.Query(since)},
	}
}

// Validate checks what the schema cannot: a URL the requests can use.
func (c *Config) Validate() error {
	if c.URL == "" {
		return nil
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("url: not an http or https URL")
	}
	return nil
}
