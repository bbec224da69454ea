package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pagekit/pagekit/paginate"
)

// State is the state of a sync as a platform keeps it: the pagekit
// checkpoints of each stream. The state of one stream encodes as
//
//	{"checkpoint": {...}, "partitions": {"<key>": {...}, ...}}
//
// where checkpoint is the stream's own (a top-level stream's, or a child
// stream's place in its parent's list with the partitions that wait for a
// retry) and partitions holds a child stream's checkpoint of each
// partition, by partition key; each is a paginate.Checkpoint as JSON,
// without its stream, which the names say.
//
// A State is not safe for concurrent use; during a run, the [Output]
// that holds it serializes every use, and a [Writer] reads it only within
// Commit.
type State struct {
	streams map[string]*streamState
}

// streamState is one stream's checkpoints, decoded for loads and encoded
// for the platform.
type streamState struct {
	own     *paginate.Checkpoint
	ownJSON []byte
	parts   map[string]*partState
	keys    []string // of parts, sorted
	enc     []byte   // the stream's state as JSON; nil when out of date
	size    int      // bytes of the encoded checkpoints, about the size of enc
}

type partState struct {
	cp  paginate.Checkpoint
	enc []byte
}

// streamJSON is the encoding of a stream's state.
type streamJSON struct {
	Checkpoint *paginate.Checkpoint           `json:"checkpoint,omitempty"`
	Partitions map[string]paginate.Checkpoint `json:"partitions,omitempty"`
}

// NewState returns an empty State: every stream starts from the start.
func NewState() *State {
	return &State{streams: make(map[string]*streamState)}
}

// SetStream sets the state of the stream name from its JSON, as
// [State.Stream] encodes it. An empty or null state removes the stream's.
func (s *State) SetStream(name string, state json.RawMessage) error {
	if t := bytes.TrimSpace(state); len(t) == 0 || string(t) == "null" {
		delete(s.streams, name)
		return nil
	}
	var v streamJSON
	d := json.NewDecoder(bytes.NewReader(state))
	d.DisallowUnknownFields()
	if err := d.Decode(&v); err != nil {
		return &ConfigError{Err: fmt.Errorf("the state of stream %q is not a pagekit state: %w", name, err)}
	}
	delete(s.streams, name)
	if v.Checkpoint != nil {
		cp := *v.Checkpoint
		cp.Stream = name
		s.save(cp)
	}
	for _, key := range slices.Sorted(maps.Keys(v.Partitions)) {
		if key == "" {
			return &ConfigError{Err: fmt.Errorf("the state of stream %q has a partition without a key", name)}
		}
		cp := v.Partitions[key]
		cp.Stream = name + "/" + key
		s.save(cp)
	}
	return nil
}

// SetStreams sets the state of every stream from a JSON object of stream
// states by stream name, as [State.AppendStreams] encodes it.
func (s *State) SetStreams(states json.RawMessage) error {
	if t := bytes.TrimSpace(states); len(t) == 0 || string(t) == "null" {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(states, &m); err != nil {
		return &ConfigError{Err: fmt.Errorf("the state is not an object of stream states: %w", err)}
	}
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if err := s.SetStream(name, m[name]); err != nil {
			return err
		}
	}
	return nil
}

// DropStream forgets the state of the stream name, so that it syncs from
// the start: a full refresh.
func (s *State) DropStream(name string) { delete(s.streams, name) }

// Names returns the names of the streams that have a state, sorted.
func (s *State) Names() []string { return slices.Sorted(maps.Keys(s.streams)) }

// Stream returns the state of the stream name as JSON, nil when it has
// none. The slice is the State's: it stays valid, unchanged, after later
// saves, which replace it.
func (s *State) Stream(name string) json.RawMessage {
	st := s.streams[name]
	if st == nil {
		return nil
	}
	if st.enc == nil {
		b := []byte(`{`)
		if st.ownJSON != nil {
			b = append(b, `"checkpoint":`...)
			b = append(b, st.ownJSON...)
		}
		if len(st.keys) > 0 {
			if st.ownJSON != nil {
				b = append(b, ',')
			}
			b = append(b, `"partitions":{`...)
			for i, k := range st.keys {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, k)
				b = append(b, ':')
				b = append(b, st.parts[k].enc...)
			}
			b = append(b, '}')
		}
		st.enc = append(b, '}')
	}
	return st.enc
}

// AppendStreams appends the state of every stream as one JSON object,
// the streams' states by name, in name order.
func (s *State) AppendStreams(b []byte) []byte {
	b = append(b, '{')
	for i, name := range s.Names() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, name)
		b = append(b, ':')
		b = append(b, s.Stream(name)...)
	}
	return append(b, '}')
}

// size returns about how many bytes the state of the stream name takes
// as JSON, every stream's when name is empty.
func (s *State) size(name string) int {
	if name != "" {
		if st := s.streams[name]; st != nil {
			return st.size
		}
		return 0
	}
	n := 0
	for _, st := range s.streams {
		n += st.size
	}
	return n
}

// load returns the checkpoint saved under the key stream: a stream's
// name, or "<stream>/<partition key>".
func (s *State) load(key string) (paginate.Checkpoint, bool) {
	name, part, isPart := strings.Cut(key, "/")
	st := s.streams[name]
	switch {
	case st == nil:
		return paginate.Checkpoint{}, false
	case isPart:
		if p := st.parts[part]; p != nil {
			return p.cp, true
		}
		return paginate.Checkpoint{}, false
	case st.own != nil:
		return *st.own, true
	}
	return paginate.Checkpoint{}, false
}

// save keeps cp under its Stream key.
func (s *State) save(cp paginate.Checkpoint) {
	name, part, isPart := strings.Cut(cp.Stream, "/")
	st := s.streams[name]
	if st == nil {
		st = &streamState{parts: make(map[string]*partState)}
		s.streams[name] = st
	}
	enc := encodeCheckpoint(cp)
	st.enc = nil
	if !isPart {
		st.size += len(enc) - len(st.ownJSON)
		st.own, st.ownJSON = &cp, enc
		return
	}
	if p := st.parts[part]; p != nil {
		st.size += len(enc) - len(p.enc)
		p.cp, p.enc = cp, enc
		return
	}
	st.size += len(enc) + len(part) + 4
	st.parts[part] = &partState{cp: cp, enc: enc}
	i, _ := slices.BinarySearch(st.keys, part)
	st.keys = slices.Insert(st.keys, i, part)
}

// encodeCheckpoint returns cp as JSON without its Stream, which the state
// holds as the stream's name and the partition key.
func encodeCheckpoint(cp paginate.Checkpoint) []byte {
	cp.Stream = ""
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // identities are query strings: keep their & readable
	// A Checkpoint holds strings, numbers and booleans only: it always
	// encodes.
	enc.Encode(cp)
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	const empty = `{"stream":"",`
	if bytes.HasPrefix(b, []byte(empty)) {
		b[len(empty)-1] = '{'
		b = b[len(empty)-1:]
	}
	return b
}
