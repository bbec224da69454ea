package paginate

// Description says how a paginator reads its pages, which decides what a
// change of the source during a sync can do to it, and so what [Run] turns
// on to protect the sync (see [Describer]).
type Description struct {
	// ByPosition says the paginator reads each page at a position that
	// counts records, such as a page number or an offset, and does not
	// check for shifts itself: a record that moves from before the
	// position to after it shifts the records after it, so that the sync
	// may skip one. Cursors and tokens that continue after the last
	// record read are not by position.
	ByPosition bool
	// SendsSince says the requests of an incremental sync are bounded
	// below by Position.Since, such as by an updated_since filter or a
	// cursor that starts at the mark, so that the sync reads only the
	// records at or after its mark.
	SendsSince bool
}

// A Describer is a [Paginator] that describes how it reads its pages. Run
// asks a paginator that implements it, and then, for an incremental sync
// (Options.HighWater set, or Since sent):
//
//   - when the paginator reads by position and a key is known
//     (Options.Key, or the sink's, see [Keyer]), turns on
//     Options.Checks.TrackKeys, and, when Options.Checks.Order is nil and the paginator
//     sends Since, takes the HighWater marks for the order the records
//     must come in, so that a page whose records go back in it is drift;
//   - says, in a warning logged before the first request and in
//     Result.Warnings, when a sync by position cannot be protected
//     (no key is known), or when HighWater is set but no request sends
//     Since, so that every sync reads every record again.
//
// The strategies of package strategies implement it. A paginator that
// does not is taken as neither reading by position nor sending Since: Run
// then turns nothing on and warns of nothing, and drift detection is what
// Options set.
type Describer interface {
	Describe() Description
}

// describe returns p's description, and whether p gave one.
func describe(p any) (Description, bool) {
	if d, ok := p.(Describer); ok {
		return d.Describe(), true
	}
	return Description{}, false
}
