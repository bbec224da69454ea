package paginate

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Identity describes, as named parts, the settings that give a checkpoint's
// position its meaning: the paginator's kind and the shape of its requests
// (endpoint, static query, page size, parameter names and where they go),
// and the destination the records go to. Page 5 of 50-record pages is not
// page 5 of 100-record pages, and a checkpoint of table A is not one of
// table B.
//
// A checkpoint carries the identity of the run that saved it, and a run
// that resumes from a checkpoint with another identity fails with a
// *[MismatchError] instead of reading from a position that means something
// else (see [Options.Restart]). Settings that do not move positions, such as
// retries, concurrency or timeouts, are not part of it.
type Identity map[string]string

// String returns the identity in the form a checkpoint stores it: the
// parts sorted by name and query-encoded, such as
// "paginator=page-number&size=50&url=...". Equal identities give equal
// strings.
func (id Identity) String() string {
	vs := make(url.Values, len(id))
	for k, v := range id {
		vs[k] = []string{v}
	}
	return vs.Encode()
}

// parseIdentity reads the form String writes; text it cannot read gives
// no parts.
func parseIdentity(s string) Identity {
	vs, err := url.ParseQuery(s)
	if err != nil || len(vs) == 0 {
		return nil
	}
	id := make(Identity, len(vs))
	for k, v := range vs {
		id[k] = v[0]
	}
	return id
}

// An Identifier describes itself for checkpoints. [Run] asks the paginator,
// the sink and Options.Identity, when they implement it, and stores the
// union in every checkpoint it saves.
//
// Paginators use parts such as "paginator", "url", "size" and "params";
// sinks name their destination in the part "table" (a table, or a file),
// which is also the stream's name when Options.Stream is empty. The parts
// "paginator", "size", "first", "params" and "overlap" are taken to shape
// positions only, how the same records are cut into pages and asked for:
// a checkpoint with no position, a completed sync's mark, does not depend
// on them (see [Options.Restart]).
type Identifier interface {
	Identity() Identity
}

// identityOf merges the identities of the paginator, the sink and the
// options. A part of the sink's that the paginator already names is kept
// under "sink." + its name, so that neither hides the other; the options'
// parts are the user's word and replace any other.
func identityOf(p, sink any, extra Identity) Identity {
	id := make(Identity)
	if v, ok := p.(Identifier); ok {
		maps.Copy(id, v.Identity())
	}
	if v, ok := sink.(Identifier); ok {
		for k, val := range v.Identity() {
			if _, taken := id[k]; taken {
				k = "sink." + k
			}
			id[k] = val
		}
	}
	maps.Copy(id, extra)
	if len(id) == 0 {
		return nil
	}
	return id
}

// destination returns the name a sink gives its destination, if any.
func destination(sink any) string {
	if v, ok := sink.(Identifier); ok {
		return v.Identity()["table"]
	}
	return ""
}

// ErrCheckpointMismatch reports a checkpoint saved by other settings than
// the run's: another paginator, request shape or destination. Test for it
// with errors.Is; the error is a *[MismatchError] naming what changed.
var ErrCheckpointMismatch = errors.New("checkpoint was saved by other settings")

// A Change is one part of an [Identity] that differs between a checkpoint
// and the run that loaded it.
type Change struct {
	// Part names the part, such as "size" or "table".
	Part string
	// Saved is the checkpoint's value, Now the run's.
	Saved, Now string
}

func (c Change) String() string { return fmt.Sprintf("%s %q, now %q", c.Part, c.Saved, c.Now) }

// MismatchError is the error for a checkpoint saved by other settings.
type MismatchError struct {
	// Stream is the stream whose checkpoint it is.
	Stream string
	// Position is where the checkpoint would have resumed.
	Position Position
	// Changes lists the parts that differ, sorted by Part.
	Changes []Change
}

// Error names the stream and every part that changed.
func (e *MismatchError) Error() string {
	parts := make([]string, len(e.Changes))
	for i, c := range e.Changes {
		parts[i] = c.String()
	}
	return fmt.Sprintf("%v: stream %q was saved at %v with %s; set Options.Restart to start the stream over (from its last completed sync when only the paging changed), or use another Stream",
		ErrCheckpointMismatch, e.Stream, e.Position, strings.Join(parts, "; "))
}

// Is reports whether target is [ErrCheckpointMismatch].
func (e *MismatchError) Is(target error) bool { return target == ErrCheckpointMismatch }

// positionParts are the parts of an identity that shape positions only:
// the paginator's kind, the page size, the first page, the names and
// places of the parameters, an offset's overlap. Which records a sync
// reads (endpoint, query, body, the window's settings) and where they go
// (table) are not among them, nor is a part of Options.Identity's, whose
// meaning is the user's.
var positionParts = map[string]bool{"paginator": true, "size": true, "first": true, "params": true, "overlap": true}

// PositionOnly reports whether the part shapes positions only, how the
// same records are cut into pages and asked for (see [Identifier]): a
// completed sync's mark carries over such a change, and a restart after it
// starts from that mark rather than from the very start.
func (c Change) PositionOnly() bool { return positionParts[c.Part] }

// changes compares a checkpoint's identity, as stored, with the run's. Only
// parts both name are compared, so that a checkpoint saved before a part
// existed (by an older version, or without an identity at all) still
// resumes.
func changes(stored string, now Identity) []Change {
	if stored == "" {
		return nil
	}
	saved := parseIdentity(stored)
	var out []Change
	for _, k := range slices.Sorted(maps.Keys(saved)) {
		if v, ok := now[k]; ok && v != saved[k] {
			out = append(out, Change{Part: k, Saved: saved[k], Now: v})
		}
	}
	return out
}
