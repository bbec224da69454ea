package singer

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/pagekit/pagekit/protocol"
)

// The replication methods.
const (
	fullTable   = "FULL_TABLE"
	incremental = "INCREMENTAL"
)

// catalog is a Singer catalog.
type catalog struct {
	Streams []catalogStream `json:"streams"`
}

type catalogStream struct {
	TapStreamID   string         `json:"tap_stream_id"`
	Stream        string         `json:"stream"`
	Schema        map[string]any `json:"schema"`
	KeyProperties []string       `json:"key_properties"`
	Metadata      []metadata     `json:"metadata"`
}

type metadata struct {
	Breadcrumb []string       `json:"breadcrumb"`
	Metadata   map[string]any `json:"metadata"`
}

// catalogOf returns the catalog of streams: every stream selected, each
// incremental by its cursor when it has one.
func catalogOf(streams []protocol.Stream) *catalog {
	cat := &catalog{Streams: make([]catalogStream, len(streams))}
	for i, s := range streams {
		md := map[string]any{
			"inclusion":            "available",
			"selected":             true,
			"selected-by-default":  true,
			"table-key-properties": s.Table.PrimaryKey,
			"replication-method":   fullTable,
		}
		if s.Cursor != "" {
			md["replication-method"] = incremental
			md["replication-key"] = s.Cursor
			md["valid-replication-keys"] = []string{s.Cursor}
		}
		if s.Parent != "" {
			md["parent-tap-stream-id"] = s.Parent
		}
		mds := []metadata{{Breadcrumb: []string{}, Metadata: md}}
		for _, c := range s.Table.Columns {
			mds = append(mds, metadata{Breadcrumb: []string{"properties", c.Name}, Metadata: map[string]any{"inclusion": "automatic"}})
		}
		cat.Streams[i] = catalogStream{TapStreamID: s.Name, Stream: s.Name, Schema: recordSchema(s),
			KeyProperties: s.Table.PrimaryKey, Metadata: mds}
	}
	return cat
}

// selection is what a catalog selects: stream names, in the source's
// order, and those read in full.
type selection struct {
	names []string
	full  map[string]bool
}

// catalogIn is the part of a catalog a sync reads.
type catalogIn struct {
	Streams []struct {
		TapStreamID string `json:"tap_stream_id"`
		Stream      string `json:"stream"`
		Schema      struct {
			Selected *bool `json:"selected"`
		} `json:"schema"`
		Metadata []struct {
			Breadcrumb []string `json:"breadcrumb"`
			Metadata   struct {
				Selected          *bool  `json:"selected"`
				SelectedByDefault *bool  `json:"selected-by-default"`
				ReplicationMethod string `json:"replication-method"`
			} `json:"metadata"`
		} `json:"metadata"`
	} `json:"streams"`
}

// selectStreams returns the streams the catalog in b selects, every
// stream when b is nil.
func selectStreams(b []byte, streams []protocol.Stream) (selection, error) {
	sel := selection{full: make(map[string]bool)}
	byName := make(map[string]protocol.Stream, len(streams))
	for _, s := range streams {
		byName[s.Name] = s
	}
	if b == nil {
		for _, s := range streams {
			sel.names = append(sel.names, s.Name)
			sel.full[s.Name] = s.Cursor == ""
		}
		return sel, nil
	}
	var cat catalogIn
	if err := json.Unmarshal(b, &cat); err != nil {
		return sel, &protocol.ConfigError{Err: fmt.Errorf("the catalog: %w", err)}
	}
	chosen := make(map[string]bool)
	for _, cs := range cat.Streams {
		name := cs.TapStreamID
		if name == "" {
			name = cs.Stream
		}
		s, ok := byName[name]
		if !ok {
			return sel, &protocol.ConfigError{Err: fmt.Errorf("the catalog names a stream the tap does not have: %q", name)}
		}
		selected, method := cs.Schema.Selected, ""
		for _, m := range cs.Metadata {
			if len(m.Breadcrumb) != 0 {
				continue
			}
			switch {
			case m.Metadata.Selected != nil:
				selected = m.Metadata.Selected
			case selected == nil && m.Metadata.SelectedByDefault != nil:
				selected = m.Metadata.SelectedByDefault
			}
			method = m.Metadata.ReplicationMethod
		}
		if selected == nil || !*selected {
			continue
		}
		switch method {
		case "":
			sel.full[name] = s.Cursor == ""
		case fullTable:
			sel.full[name] = true
		case incremental:
			if s.Cursor == "" {
				return sel, &protocol.ConfigError{Err: fmt.Errorf("stream %q is selected INCREMENTAL, but it has no replication key: FULL_TABLE only", name)}
			}
			sel.full[name] = false
		default:
			return sel, &protocol.ConfigError{Err: fmt.Errorf("stream %q: replication-method %q is not supported: FULL_TABLE or INCREMENTAL", name, method)}
		}
		chosen[name] = true
	}
	for _, s := range streams {
		if chosen[s.Name] {
			sel.names = append(sel.names, s.Name)
		}
	}
	return sel, nil
}

// loadState sets st from a state file: {"bookmarks": {...}}, or a STATE
// message holding it.
func loadState(b []byte, st *protocol.State) error {
	if t := bytes.TrimSpace(b); len(t) == 0 || string(t) == "null" {
		return nil
	}
	var v struct {
		Type      string          `json:"type"`
		Value     json.RawMessage `json:"value"`
		Bookmarks json.RawMessage `json:"bookmarks"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return &protocol.ConfigError{Err: fmt.Errorf("the state: %w", err)}
	}
	if v.Type == "STATE" && v.Value != nil {
		return loadState(v.Value, st)
	}
	return st.SetStreams(v.Bookmarks)
}
