// Package console is what a sync run from the command line shows: a
// progress bar that fits the terminal, or log lines, while it runs
// ([Progress], an observer for paginate.Options.Observe and a logger for
// Options.Logger); a summary of the [paginate.Result] when it ends
// ([Summary]); the first rows of the table it filled ([Table]); and one
// message at the very end, when something went wrong or the run was
// interrupted, with what to do next, and the exit status that tells a
// shell or a scheduler how it went ([Report]).
//
// A connector of many streams (package connector) has its own:
// [ConnectorProgress] for connector.Config, and [ConnectorSummary], one
// table of every stream.
//
// It is the output of every example connector, made for copying:
//
//	prog := console.NewProgress(os.Stderr, "users", false)
//	res, err := paginate.Run(ctx, api, sink, paginate.Options[User]{
//		Stream:  "users",
//		Logger:  prog.Logger,
//		Observe: prog.Observe,
//	})
//	console.Summary(os.Stdout, res, err)
//	os.Exit(console.Report(os.Stderr, "users", err))
package console
