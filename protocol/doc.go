// Package protocol runs a connector.Connector under the protocols of the
// platforms that schedule syncs, store their state and write their
// destinations. Its subpackages speak one protocol each: airbyte (an
// Airbyte source: spec, check, discover, read), singer (a Singer tap, as
// Meltano runs it) and fivetran (a Fivetran partner SDK connector, a gRPC
// server). This package holds what they share.
//
// A connector author describes the connector once, as a [Source]: its
// configuration type, whose JSON Schema is generated from the Go struct,
// and a function that builds the connector from a configuration. Each
// stream's destination is a [Sink] from [NewSink], which hands the records
// of every committed page, and then the state that covers them, to the
// protocol being spoken:
//
//	src := &protocol.Source[Config]{
//		Name:     "acme",
//		Defaults: Config{PageSize: 50},
//		Open: func(ctx context.Context, cfg Config, out *protocol.Output) (*connector.Connector, error) {
//			users := connector.NewStream("users", &strategies.PageNumber[User]{...},
//				protocol.NewSink(out, schema.Must(schema.Derive[User]("users")), protocol.SinkConfig[User]{Cursor: "updatedAt"}),
//				paginate.Options[User]{HighWater: ...})
//			return connector.New(connector.Config{Logger: out.Logger()}, users)
//		},
//	}
//	// then, by the first argument: airbyte.Run, singer.Run or fivetran.Serve with src
//
// # State
//
// A platform keeps a sync's state and hands it back to the next one. The
// state of a stream is the pagekit checkpoints of that stream: a top-level
// stream's one checkpoint, and for a child stream the checkpoint of its
// read of the parent's list and one checkpoint per partition (per parent
// record), so that each partition resumes and syncs incrementally on its
// own. A state is written only after every record it covers, in the same
// ordered output, so a platform that stores the last state it read and
// hands it back after a crash loses nothing; the resumed sync repeats at
// most the records at the mark it resumes from, as an inclusive
// updated_since serves them again.
package protocol
