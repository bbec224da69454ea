package airbyte

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/pagekit/pagekit/protocol"
	"github.com/pagekit/pagekit/sink/schema"
)

// The sync modes.
const (
	fullRefresh = "full_refresh"
	incremental = "incremental"
)

// deletedAt is the column that marks a record as deleted, as Airbyte's
// change-data-capture sources write it: destinations that deduplicate
// remove the row.
const deletedAt = "_ab_cdc_deleted_at"

// connectionSpecification returns the configuration's JSON Schema as the
// SPEC message carries it: draft-07, each property's place in the form as
// its "order", and a secret (writeOnly) marked airbyte_secret.
func connectionSpecification(sp *protocol.Spec) (map[string]any, error) {
	b, err := json.Marshal(sp.Config)
	if err != nil {
		return nil, fmt.Errorf("airbyte: encode the configuration's schema: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("airbyte: decode the configuration's schema: %w", err)
	}
	m["$schema"] = "http://json-schema.org/draft-07/schema#"
	m["type"] = "object"
	if _, ok := m["title"]; !ok && sp.Name != "" {
		m["title"] = sp.Name
	}
	props, _ := m["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
		m["properties"] = props
	}
	if sp.Config.Properties != nil {
		i := 0
		for p := sp.Config.Properties.Oldest(); p != nil; p = p.Next() {
			prop, _ := props[p.Key].(map[string]any)
			if prop == nil {
				continue
			}
			prop["order"] = i
			if p.Value.WriteOnly {
				prop["airbyte_secret"] = true
			}
			i++
		}
	}
	return m, nil
}

// catalogOf returns the catalog of streams.
func catalogOf(streams []protocol.Stream) *catalog {
	cat := &catalog{Streams: make([]stream, len(streams))}
	for i, s := range streams {
		js := protocol.RecordSchema(s.Table, func(c schema.Column, m map[string]any) {
			if c.Type == schema.UTCDatetime {
				m["airbyte_type"] = "timestamp_with_timezone"
			}
		})
		if s.Deletes {
			js["properties"].(map[string]any)[deletedAt] = map[string]any{
				"type": []any{"null", "string"}, "format": "date-time", "airbyte_type": "timestamp_with_timezone"}
		}
		st := stream{Name: s.Name, JSONSchema: js, SupportedSyncModes: []string{fullRefresh}}
		for _, k := range s.Table.PrimaryKey {
			st.SourceDefinedPrimaryKey = append(st.SourceDefinedPrimaryKey, []string{k})
		}
		if s.Cursor != "" {
			st.SupportedSyncModes = append(st.SupportedSyncModes, incremental)
			st.SourceDefinedCursor = true
			st.DefaultCursorField = []string{s.Cursor}
			st.IsResumable = true
		}
		cat.Streams[i] = st
	}
	return cat
}

// configuredCatalog is the part of a ConfiguredAirbyteCatalog a read
// uses.
type configuredCatalog struct {
	Streams []configuredStream `json:"streams"`
}

type configuredStream struct {
	Stream struct {
		Name string `json:"name"`
	} `json:"stream"`
	SyncMode string `json:"sync_mode"`
}

// selection is what a configured catalog selects: stream names, in the
// catalog's order, and those read in full.
type selection struct {
	names []string
	full  map[string]bool
}

// selectStreams checks the configured catalog in b against the source's
// streams.
func selectStreams(b []byte, streams []protocol.Stream) (selection, error) {
	var cat configuredCatalog
	if err := json.Unmarshal(b, &cat); err != nil {
		return selection{}, &protocol.ConfigError{Err: fmt.Errorf("the configured catalog: %w", err)}
	}
	byName := make(map[string]protocol.Stream, len(streams))
	for _, s := range streams {
		byName[s.Name] = s
	}
	sel := selection{full: make(map[string]bool)}
	for _, cs := range cat.Streams {
		name := cs.Stream.Name
		s, ok := byName[name]
		if !ok {
			return selection{}, &protocol.ConfigError{Err: fmt.Errorf("%w: %q", errUnknownStream, name)}
		}
		if _, dup := sel.full[name]; dup {
			return selection{}, &protocol.ConfigError{Err: fmt.Errorf("the configured catalog names stream %q twice", name)}
		}
		switch cs.SyncMode {
		case "", fullRefresh:
			sel.full[name] = true
		case incremental:
			if s.Cursor == "" {
				return selection{}, &protocol.ConfigError{Err: fmt.Errorf("stream %q is configured incremental, but it supports full_refresh only", name)}
			}
			sel.full[name] = false
		default:
			return selection{}, &protocol.ConfigError{Err: fmt.Errorf("stream %q: unknown sync_mode %q", name, cs.SyncMode)}
		}
		sel.names = append(sel.names, name)
	}
	if len(sel.names) == 0 {
		return selection{}, &protocol.ConfigError{Err: fmt.Errorf("the configured catalog selects no stream")}
	}
	return sel, nil
}

// stateIn is an AirbyteStateMessage as a read's --state file holds it.
type stateIn struct {
	Type   string `json:"type"`
	Stream *struct {
		StreamDescriptor streamDescriptor `json:"stream_descriptor"`
		StreamState      json.RawMessage  `json:"stream_state"`
	} `json:"stream"`
	Global json.RawMessage `json:"global"`
	Data   json.RawMessage `json:"data"`
}

// loadState sets st from a --state file: an array of STREAM state
// messages, as the platform passes them; a LEGACY message's data or a
// bare object is read as stream states by name.
func loadState(b []byte, st *protocol.State) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] == '{' {
		var one stateIn
		if err := json.Unmarshal(b, &one); err == nil && one.Type != "" {
			b = append(append([]byte{'['}, b...), ']')
		} else {
			return st.SetStreams(b)
		}
	}
	var msgs []stateIn
	if err := json.Unmarshal(b, &msgs); err != nil {
		return &protocol.ConfigError{Err: fmt.Errorf("the state: %w", err)}
	}
	for _, m := range msgs {
		switch {
		case m.Stream != nil && (m.Type == "" || m.Type == "STREAM"):
			if err := st.SetStream(m.Stream.StreamDescriptor.Name, m.Stream.StreamState); err != nil {
				return err
			}
		case m.Type == "LEGACY" || m.Type == "" && m.Data != nil:
			if err := st.SetStreams(m.Data); err != nil {
				return err
			}
		default:
			return &protocol.ConfigError{Err: fmt.Errorf("the state holds a %s state; this source keeps per-stream (STREAM) states", m.Type)}
		}
	}
	return nil
}
