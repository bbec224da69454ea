package airbyte

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// message is an AirbyteMessage: a type and the one field it names.
type message struct {
	Type             string            `json:"type"`
	Log              *logMessage       `json:"log,omitempty"`
	Spec             *connectorSpec    `json:"spec,omitempty"`
	ConnectionStatus *connectionStatus `json:"connectionStatus,omitempty"`
	Catalog          *catalog          `json:"catalog,omitempty"`
	State            *stateMessage     `json:"state,omitempty"`
	Trace            *traceMessage     `json:"trace,omitempty"`
}

type logMessage struct {
	Level   string `json:"level"`
	Message string `json:"message"`
}

type connectorSpec struct {
	DocumentationURL        string         `json:"documentationUrl,omitempty"`
	ConnectionSpecification map[string]any `json:"connectionSpecification"`
	SupportsIncremental     bool           `json:"supportsIncremental"`
}

type connectionStatus struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

type catalog struct {
	Streams []stream `json:"streams"`
}

// stream is an AirbyteStream.
type stream struct {
	Name                    string         `json:"name"`
	JSONSchema              map[string]any `json:"json_schema"`
	SupportedSyncModes      []string       `json:"supported_sync_modes"`
	SourceDefinedCursor     bool           `json:"source_defined_cursor,omitempty"`
	DefaultCursorField      []string       `json:"default_cursor_field,omitempty"`
	SourceDefinedPrimaryKey [][]string     `json:"source_defined_primary_key,omitempty"`
	IsResumable             bool           `json:"is_resumable,omitempty"`
	Namespace               string         `json:"namespace,omitempty"`
}

type streamDescriptor struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

type stateMessage struct {
	Type        string       `json:"type"`
	Stream      *streamState `json:"stream,omitempty"`
	SourceStats *stateStats  `json:"sourceStats,omitempty"`
}

type streamState struct {
	StreamDescriptor streamDescriptor `json:"stream_descriptor"`
	StreamState      json.RawMessage  `json:"stream_state,omitempty"`
}

type stateStats struct {
	RecordCount count `json:"recordCount"`
}

// count is a record count, which the protocol defines as a double
// "always with a decimal point".
type count int64

func (c count) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(c), 'f', 1, 64), nil
}

type traceMessage struct {
	Type         string             `json:"type"`
	EmittedAt    int64              `json:"emitted_at"`
	Error        *errorTrace        `json:"error,omitempty"`
	StreamStatus *streamStatusTrace `json:"stream_status,omitempty"`
}

type errorTrace struct {
	Message          string            `json:"message"`
	InternalMessage  string            `json:"internal_message,omitempty"`
	FailureType      string            `json:"failure_type,omitempty"`
	StreamDescriptor *streamDescriptor `json:"stream_descriptor,omitempty"`
}

type streamStatusTrace struct {
	StreamDescriptor streamDescriptor `json:"stream_descriptor"`
	Status           string           `json:"status"`
}

// The stream statuses.
const (
	statusStarted    = "STARTED"
	statusRunning    = "RUNNING"
	statusComplete   = "COMPLETE"
	statusIncomplete = "INCOMPLETE"
)

// emitter writes messages to the output, one JSON a line. Records are
// buffered; every other message is flushed at once, so that a state on
// the output means the records before it are there too. It is safe for
// concurrent use.
type emitter struct {
	mu  sync.Mutex
	w   *bufio.Writer
	err error
	now func() time.Time
}

func newEmitter(w io.Writer) *emitter {
	return &emitter{w: bufio.NewWriterSize(w, 64<<10), now: time.Now}
}

// send writes m and flushes.
func (e *emitter) send(m *message) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sendLocked(m)
}

func (e *emitter) sendLocked(m *message) error {
	if e.err != nil {
		return e.err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := e.w.Write(b); err != nil {
		e.err = err
		return err
	}
	return e.flushLocked()
}

// writeLocked writes a line the caller encoded, without flushing.
func (e *emitter) writeLocked(line []byte) error {
	if e.err != nil {
		return e.err
	}
	if _, err := e.w.Write(line); err != nil {
		e.err = err
	}
	return e.err
}

func (e *emitter) flushLocked() error {
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.err
}

func (e *emitter) millis() int64 { return e.now().UnixMilli() }

// log writes a LOG message.
func (e *emitter) log(level slog.Level, line string) {
	e.send(&message{Type: "LOG", Log: &logMessage{Level: logLevel(level), Message: line}})
}

// logLevel returns the protocol's name of level.
func logLevel(level slog.Level) string {
	switch {
	case level >= slog.LevelError:
		return "ERROR"
	case level >= slog.LevelWarn:
		return "WARN"
	case level >= slog.LevelInfo:
		return "INFO"
	}
	return "DEBUG"
}

// streamStatus writes a TRACE message of the status of the stream name.
func (e *emitter) streamStatus(name, status string) error {
	return e.send(statusMessage(e.millis(), name, status))
}

func statusMessage(ms int64, name, status string) *message {
	return &message{Type: "TRACE", Trace: &traceMessage{Type: "STREAM_STATUS", EmittedAt: ms,
		StreamStatus: &streamStatusTrace{StreamDescriptor: streamDescriptor{Name: name}, Status: status}}}
}
