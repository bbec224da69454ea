// Package protocoltest checks what a connector writes under the platform
// protocols, for the tests of connectors run by packages airbyte, singer
// and fivetran: it validates every message against a schema of its
// protocol (kept in this package: Airbyte's from the definitions of
// airbyte_protocol.yaml, Singer's from its specification, the Fivetran
// SDK's log lines), parses the records and the states in the order they
// were written, and checks that each state follows every record it covers.
package protocoltest

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	validator "github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed schemas/*.json
var schemaFiles embed.FS

// Validators of the protocols' messages.
var (
	airbyteMessage = mustSchema("airbyte_protocol.json", "#/definitions/AirbyteMessage")
	airbyteCatalog = mustSchema("airbyte_protocol.json", "#/definitions/ConfiguredAirbyteCatalog")
	singerMessage  = mustSchema("singer.json", "#/definitions/Message")
	singerCatalog  = mustSchema("singer.json", "#/definitions/Catalog")
	fivetranLog    = mustSchema("fivetran_log.json", "")
)

func mustSchema(file, ref string) *validator.Schema {
	c := validator.NewCompiler()
	c.AssertFormat()
	for _, name := range []string{"airbyte_protocol.json", "singer.json", "fivetran_log.json"} {
		b, err := schemaFiles.ReadFile("schemas/" + name)
		if err != nil {
			panic(err)
		}
		doc, err := validator.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			panic(fmt.Sprintf("protocoltest: %s: %v", name, err))
		}
		if err := c.AddResource("https://pagekit.test/"+name, doc); err != nil {
			panic(err)
		}
	}
	s, err := c.Compile("https://pagekit.test/" + file + ref)
	if err != nil {
		panic(fmt.Sprintf("protocoltest: compile %s%s: %v", file, ref, err))
	}
	return s
}

// validate checks the JSON b against s.
func validate(s *validator.Schema, b []byte) error {
	doc, err := validator.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return s.Validate(doc)
}

// ValidateSchema checks that b is a JSON Schema that compiles, such as a
// stream's schema in a catalog or a configuration's spec.
func ValidateSchema(b []byte) (*validator.Schema, error) {
	doc, err := validator.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	c := validator.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("https://pagekit.test/schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("https://pagekit.test/schema.json")
}

// Record is one record as written.
type Record struct {
	// Line is the record's line in the output, from 1; for Fivetran, its
	// place among the Update's responses.
	Line int
	// Stream is the stream's name (Fivetran: the table's).
	Stream string
	// Data is the record's JSON object.
	Data json.RawMessage
	// Deleted is set for a record written as a delete.
	Deleted bool
}

// Field returns the record's field name as text: a string as itself,
// anything else as JSON, "" when absent or null.
func (r Record) Field(name string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(r.Data, &m) != nil {
		return ""
	}
	v := m[name]
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	if string(v) == "null" {
		return ""
	}
	return string(v)
}

// State is one state as written: the states of the streams it holds.
type State struct {
	Line int
	// Streams holds each stream's state by name: one stream's for an
	// Airbyte STATE, every stream's for Singer and Fivetran.
	Streams map[string]json.RawMessage
	// RecordCount is an Airbyte STATE's sourceStats.recordCount, -1
	// when it has none.
	RecordCount float64
}

// Output is what a run wrote, in order.
type Output struct {
	// Types counts the messages by type.
	Types map[string]int
	// Records and States are in the order written.
	Records []Record
	States  []State
	// Statuses are an Airbyte read's stream statuses as "stream STATUS",
	// in order.
	Statuses []string
	// Errors are the messages of an Airbyte TRACE ERROR, with their
	// failure types: "config_error: ...".
	Errors []string
	// Raw holds every message by type, for the rest: SPEC,
	// CONNECTION_STATUS, CATALOG, SCHEMA.
	Raw map[string][]json.RawMessage
	// Partial is set when the output ended within a line, as a killed
	// process leaves it; that line is not parsed.
	Partial bool

	statusLine int // of the last status
}

func newOutput() *Output {
	return &Output{Types: make(map[string]int), Raw: make(map[string][]json.RawMessage)}
}

// lines splits out into its complete lines, noting a partial last one.
func lines(out []byte, o *Output) [][]byte {
	ls := bytes.SplitAfter(out, []byte("\n"))
	if n := len(ls); n > 0 && len(ls[n-1]) == 0 {
		ls = ls[:n-1]
	} else if n > 0 {
		o.Partial = true
		ls = ls[:n-1]
	}
	return ls
}

// ParseAirbyte validates and parses an Airbyte source's output: each line
// an AirbyteMessage that validates against airbyte_protocol.yaml's
// definition and holds the field its type names. In a read, each stream's
// messages must come in the order of its statuses: STARTED first, RUNNING
// before its first RECORD, and nothing after its COMPLETE or INCOMPLETE.
func ParseAirbyte(out []byte) (*Output, error) {
	o := newOutput()
	var errs []error
	st := make(statuses)
	for i, line := range lines(out, o) {
		n := i + 1
		err := o.airbyteLine(n, line)
		if err == nil {
			err = st.check(o, n)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w: %s", n, err, clip(line)))
		}
	}
	return o, errors.Join(errs...)
}

// statuses is the last status of each stream of a read.
type statuses map[string]string

// check checks the order of the message that o parsed last, at line n.
func (st statuses) check(o *Output, n int) error {
	if len(o.Statuses) == 0 {
		return nil // not a read
	}
	var name, what string
	switch {
	case len(o.Records) > 0 && o.Records[len(o.Records)-1].Line == n:
		name, what = o.Records[len(o.Records)-1].Stream, "RECORD"
	case len(o.States) > 0 && o.States[len(o.States)-1].Line == n:
		for name = range o.States[len(o.States)-1].Streams {
		}
		what = "STATE"
	case o.statusLine == n:
		name, what, _ = strings.Cut(o.Statuses[len(o.Statuses)-1], " ")
	default:
		return nil
	}
	last := st[name]
	switch {
	case last == "" && what != "STARTED":
		return fmt.Errorf("a %s of stream %q before its STARTED status", what, name)
	case last == "COMPLETE" || last == "INCOMPLETE":
		return fmt.Errorf("a %s of stream %q after its %s status", what, name, last)
	case what == "RECORD" && last != "RUNNING":
		return fmt.Errorf("a RECORD of stream %q before its RUNNING status", name)
	case what == "STARTED" && last != "" || what == "RUNNING" && last != "STARTED":
		return fmt.Errorf("stream %q: a %s status after %s", name, what, last)
	case what == "RECORD" || what == "STATE":
		return nil
	}
	st[name] = what
	return nil
}

type airbyteMsg struct {
	Type   string `json:"type"`
	Record *struct {
		Stream string          `json:"stream"`
		Data   json.RawMessage `json:"data"`
	} `json:"record"`
	State *struct {
		Type   string `json:"type"`
		Stream *struct {
			StreamDescriptor struct {
				Name string `json:"name"`
			} `json:"stream_descriptor"`
			StreamState json.RawMessage `json:"stream_state"`
		} `json:"stream"`
		SourceStats *struct {
			RecordCount float64 `json:"recordCount"`
		} `json:"sourceStats"`
	} `json:"state"`
	Trace *struct {
		Type  string `json:"type"`
		Error *struct {
			Message     string `json:"message"`
			FailureType string `json:"failure_type"`
		} `json:"error"`
		StreamStatus *struct {
			StreamDescriptor struct {
				Name string `json:"name"`
			} `json:"stream_descriptor"`
			Status string `json:"status"`
		} `json:"stream_status"`
	} `json:"trace"`
	Log              json.RawMessage `json:"log"`
	Spec             json.RawMessage `json:"spec"`
	ConnectionStatus json.RawMessage `json:"connectionStatus"`
	Catalog          json.RawMessage `json:"catalog"`
}

func (o *Output) airbyteLine(n int, line []byte) error {
	if err := validate(airbyteMessage, line); err != nil {
		return err
	}
	var m airbyteMsg
	if err := json.Unmarshal(line, &m); err != nil {
		return err
	}
	o.Types[m.Type]++
	field := map[string]bool{
		"RECORD": m.Record != nil, "STATE": m.State != nil, "TRACE": m.Trace != nil, "LOG": m.Log != nil,
		"SPEC": m.Spec != nil, "CONNECTION_STATUS": m.ConnectionStatus != nil, "CATALOG": m.Catalog != nil,
	}
	if has, known := field[m.Type]; !known || !has {
		return fmt.Errorf("a %s message without its field", m.Type)
	}
	switch m.Type {
	case "RECORD":
		r := Record{Line: n, Stream: m.Record.Stream, Data: m.Record.Data}
		var d struct {
			DeletedAt *string `json:"_ab_cdc_deleted_at"`
		}
		json.Unmarshal(m.Record.Data, &d)
		r.Deleted = d.DeletedAt != nil
		o.Records = append(o.Records, r)
	case "STATE":
		st := m.State
		if st.Type != "STREAM" || st.Stream == nil {
			return fmt.Errorf("a %q state, not a STREAM state", st.Type)
		}
		s := State{Line: n, Streams: map[string]json.RawMessage{st.Stream.StreamDescriptor.Name: st.Stream.StreamState}, RecordCount: -1}
		if st.SourceStats != nil {
			s.RecordCount = st.SourceStats.RecordCount
		}
		o.States = append(o.States, s)
	case "TRACE":
		switch t := m.Trace; {
		case t.Type == "STREAM_STATUS" && t.StreamStatus != nil:
			o.Statuses = append(o.Statuses, t.StreamStatus.StreamDescriptor.Name+" "+t.StreamStatus.Status)
			o.statusLine = n
		case t.Type == "ERROR" && t.Error != nil:
			o.Errors = append(o.Errors, t.Error.FailureType+": "+t.Error.Message)
		default:
			return fmt.Errorf("a %s trace without its field", t.Type)
		}
	default:
		o.Raw[m.Type] = append(o.Raw[m.Type], json.RawMessage(bytes.Clone(line)))
	}
	return nil
}

// ValidateConfiguredCatalog checks b against ConfiguredAirbyteCatalog.
func ValidateConfiguredCatalog(b []byte) error { return validate(airbyteCatalog, b) }

// ParseSinger validates and parses a Singer tap's output: each line a
// SCHEMA, RECORD or STATE message as the specification describes it, and
// every RECORD after a SCHEMA of its stream.
func ParseSinger(out []byte) (*Output, error) {
	o := newOutput()
	var errs []error
	schemas := make(map[string]bool)
	for i, line := range lines(out, o) {
		n := i + 1
		if err := validate(singerMessage, line); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w: %s", n, err, clip(line)))
			continue
		}
		var m struct {
			Type   string          `json:"type"`
			Stream string          `json:"stream"`
			Record json.RawMessage `json:"record"`
			Value  struct {
				Bookmarks map[string]json.RawMessage `json:"bookmarks"`
			} `json:"value"`
		}
		if err := json.Unmarshal(line, &m); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", n, err))
			continue
		}
		o.Types[m.Type]++
		switch m.Type {
		case "SCHEMA":
			schemas[m.Stream] = true
			o.Raw["SCHEMA"] = append(o.Raw["SCHEMA"], json.RawMessage(bytes.Clone(line)))
		case "RECORD":
			if !schemas[m.Stream] {
				errs = append(errs, fmt.Errorf("line %d: a RECORD of stream %q before its SCHEMA", n, m.Stream))
			}
			r := Record{Line: n, Stream: m.Stream, Data: m.Record}
			var d struct {
				DeletedAt *string `json:"_sdc_deleted_at"`
			}
			json.Unmarshal(m.Record, &d)
			r.Deleted = d.DeletedAt != nil
			o.Records = append(o.Records, r)
		case "STATE":
			o.States = append(o.States, State{Line: n, Streams: m.Value.Bookmarks, RecordCount: -1})
		}
	}
	return o, errors.Join(errs...)
}

// ValidateSingerCatalog checks a catalog, as --discover prints it.
func ValidateSingerCatalog(b []byte) error { return validate(singerCatalog, b) }

// ValidateFivetranLog checks a log line of a Fivetran connector.
func ValidateFivetranLog(line []byte) error { return validate(fivetranLog, line) }

func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// LastStates returns the last state written of each stream, by name.
func (o *Output) LastStates() map[string]json.RawMessage {
	last := make(map[string]json.RawMessage)
	for _, s := range o.States {
		maps.Copy(last, s.Streams)
	}
	return last
}

// AirbyteStateFile returns the states as a read's --state file: one STREAM
// state message for each stream.
func AirbyteStateFile(states map[string]json.RawMessage) []byte {
	var msgs []any
	for _, name := range slices.Sorted(maps.Keys(states)) {
		msgs = append(msgs, map[string]any{"type": "STREAM", "stream": map[string]any{
			"stream_descriptor": map[string]string{"name": name}, "stream_state": states[name]}})
	}
	b, _ := json.Marshal(msgs)
	return b
}

// SingerStateFile returns the states as a tap's --state file.
func SingerStateFile(states map[string]json.RawMessage) []byte {
	b, _ := json.Marshal(map[string]any{"bookmarks": states})
	return b
}

// Future returns the states with every mark in them (every RFC 3339 time)
// moved to the year 2999: a state from the future, after which an
// incremental sync finds nothing.
func Future(states map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(states))
	for k, v := range states {
		out[k] = json.RawMessage(futureRE.ReplaceAll(v, []byte("2999-01-01T00:00:00Z")))
	}
	return out
}

// parseTime parses a mark or a cursor value.
func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}
