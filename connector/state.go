package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pagekit/pagekit/paginate"
)

// A child stream keeps one record of its own in its store, under its name:
// where its read of the parent's list stands, and the partitions that
// failed and wait for a retry. It is stored as a checkpoint whose position
// token is the JSON of childState after statePrefix, so that any
// paginate.Store keeps it.
type childState struct {
	// List is the checkpoint of the read of the parent's list: every
	// partition of the pages before its position has completed or is in
	// Failed.
	List paginate.Checkpoint `json:"list"`
	// Failed are the partitions to retry.
	Failed []failedPartition `json:"failed,omitempty"`
}

// failedPartition is a partition that failed, with its parent record, so
// that it can be retried without reading the parent's list again.
type failedPartition struct {
	Key    string          `json:"key"`
	Parent json.RawMessage `json:"parent"`
	Error  string          `json:"error,omitempty"`
}

const statePrefix = "pagekit.connector.child/v1 "

// maxFailed is the most failed partitions a child stream's state keeps;
// past it, the read of the parent's list stays before the page of the
// partition that did not fit, so that a later run reads it again.
const maxFailed = 1000

// loadState returns the state of the child stream name, and whether there
// is one. An empty checkpoint, as a reset leaves, is no state.
func loadState(ctx context.Context, st paginate.Store, name string) (childState, bool, error) {
	cp, found, err := st.Load(ctx, name)
	if err != nil {
		return childState{}, false, fmt.Errorf("connector: stream %q: load its state: %w", name, err)
	}
	if !found || cp.Position == (paginate.Position{}) && cp.HighWater == "" {
		return childState{}, false, nil
	}
	text, ok := strings.CutPrefix(cp.Position.Token, statePrefix)
	if !ok {
		return childState{}, false, fmt.Errorf("connector: stream %q: the checkpoint under its name is not a child stream's state (was it a top-level stream?); reset it to start over", name)
	}
	var s childState
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		return childState{}, false, fmt.Errorf("connector: stream %q: its state is not valid: %w", name, err)
	}
	s.List.Stream = name
	return s, true, nil
}

// listStart returns where a read of the parent's list starts from the
// saved checkpoint cp: with every, a list that completed starts over from
// the first parent, whatever mark an earlier configuration left.
func listStart(cp paginate.Checkpoint, every bool) paginate.Checkpoint {
	if every && cp.Position.IsStart() {
		cp.Position.Since, cp.HighWater = "", ""
	}
	return cp
}

// saveState saves the state of the child stream name.
func saveState(ctx context.Context, st paginate.Store, name string, s childState) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("connector: stream %q: encode its state: %w", name, err)
	}
	cp := paginate.Checkpoint{Stream: name, Position: paginate.Position{Token: statePrefix + string(b)}, HighWater: s.List.HighWater}
	if err := st.Save(ctx, cp); err != nil {
		return fmt.Errorf("connector: stream %q: save its state: %w", name, err)
	}
	return nil
}
