// Package connector runs a connector of many streams: named streams of
// different record types, child streams fanned out from a parent stream's
// records, within one budget of requests in flight and one rate limit per
// host, with one result for the whole run.
//
// A [Stream] pairs a paginator, a destination and paginate.Options, as one
// paginate.Run does; [NewStream] declares a top-level stream and
// [NewChild] a child stream, whose every parent record is a partition with
// its own paginator and its own checkpoint ("<stream>/<key>"): its own
// resume and its own incremental mark. [New] gathers streams into a
// [Connector]; [Connector.Run] syncs them all, or a selection, at once.
//
//	lim := connector.NewLimiter(connector.Limits{InFlight: 16, Rate: 20})
//	users := connector.NewStream("users", &strategies.PageNumber[User]{
//		Request: strategies.Request{URL: base + "/users", Client: lim.Client()}, ...
//	}, userSink, paginate.Options[User]{HighWater: ..., Key: ...,
//		Checks: paginate.Checks[User]{TrackKeys: true, Order: ...}})
//	orders := connector.NewChild("orders", connector.ChildOf[User, Order]{
//		Parent: users,
//		Key:    func(u User) string { return u.ID },
//		Paginator: func(u User) (paginate.Paginator[Order], error) {
//			return &strategies.PageNumber[Order]{Request: strategies.Request{
//				URL: base + "/users/" + url.PathEscape(u.ID) + "/orders", Client: lim.Client()}, ...}, nil
//		},
//	}, orderSink, paginate.Options[Order]{HighWater: ...})
//	c, err := connector.New(connector.Config{Limiter: lim}, users, orders)
//	res, err := c.Run(ctx)            // or c.Run(ctx, "orders")
//
// # Guarantees
//
// Every fetch of every stream and partition takes a slot of the
// [Limiter]'s in-flight budget. Requests sent through [Limiter.Client]
// also wait for their host's rate limiter, and a 429 or 503 with a
// Retry-After from a host holds back every request to that host, from
// every stream, until the time it names.
//
// A stream that fails does not stop the others unless Config.FailFast is
// set; a child stream's partition that fails does not stop its siblings,
// and is kept, with its parent record, in the child's state, to be retried
// first by the next run. A child stream saves its place in the parent's
// list only past pages of parents whose partitions have all completed or
// been kept for a retry, so a cancellation or a kill -9 at any moment loses
// no parent: the next run resumes the list there, and each partition from
// its own checkpoint. The list is read with the parent stream's drift
// detection (Options.Key, TrackKeys and Order, or what paginate.Run turns
// on by itself): when parents that change during the sync shift the list's
// pages, the list keeps the mark it started from, and the next run reads
// it again from there, so that no parent a shift slid past is left without
// its partition. The child keeps the keys of the parents it read in its
// store (a paginate.KeyStore), so that a list resumed after a crash still
// sees a parent that a change moved across its place.
//
// # Job queues
//
// [Connector.Partitions] lists a stream's partitions as its parent's pages
// arrive, saving the list's place after each batch is handed over, and
// [Connector.RunPartition] runs one partition on its own, within the
// connector's limits: the pieces a job queue needs to run a connector one
// partition per job, on many workers.
package connector
