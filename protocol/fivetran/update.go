package fivetran

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/protocol"
	"github.com/pagekit/pagekit/protocol/fivetran/fivetranpb"
	"github.com/pagekit/pagekit/sink/schema"
)

// Update syncs the selected tables from the request's state, streaming
// each committed page's records and then a checkpoint of the state after
// them.
func (s *server) Update(req *fivetranpb.UpdateRequest, stream grpc.ServerStreamingServer[fivetranpb.UpdateResponse]) error {
	ctx := stream.Context()
	cfg, err := s.config(req.GetConfiguration())
	if err != nil {
		return s.fail(stream, err)
	}
	st := protocol.NewState()
	if err := loadState(req.GetStateJson(), st); err != nil {
		return s.fail(stream, err)
	}
	w := &writer{send: stream.Send}
	out := protocol.NewOutput(w, st, s.log)
	c, err := s.src.Connect(ctx, cfg, out)
	if err != nil {
		return s.fail(stream, err)
	}
	streams, err := protocol.Streams(c)
	if err != nil {
		return s.fail(stream, err)
	}
	names, exclude, err := selectTables(req.GetSelection(), streams)
	if err != nil {
		return s.fail(stream, err)
	}
	w.exclude = exclude
	s.log.Info("fivetran: update started", "streams", fmt.Sprint(names))
	res, runErr := c.Run(ctx, names...)
	if err := out.Flush(); err != nil {
		return status.Error(codes.Unavailable, err.Error())
	}
	return s.finish(stream, names, res, runErr)
}

// finish reports each stream that failed as a warning, and the update's
// outcome.
func (s *server) finish(stream grpc.ServerStreamingServer[fivetranpb.UpdateResponse], names []string, res connector.Result, runErr error) error {
	var errs []error
	for _, name := range names {
		r, ran := res.Stream(name)
		var err error
		switch {
		case !ran:
			err = fmt.Errorf("stream %q did not run: %w", name, runErr)
		case r.Err != nil:
			err = fmt.Errorf("stream %q: %w", name, r.Err)
		default:
			s.log.Info("fivetran: stream synced", "stream", name, "records", r.Items, "pages", r.Pages)
			continue
		}
		errs = append(errs, err)
		s.log.Error(err.Error())
		stream.Send(&fivetranpb.UpdateResponse{Operation: &fivetranpb.UpdateResponse_Warning{Warning: &fivetranpb.Warning{Message: err.Error()}}})
	}
	if len(errs) == 0 && runErr != nil {
		errs = append(errs, runErr)
	}
	if len(errs) == 0 {
		return nil
	}
	return s.fail(stream, errors.Join(errs...))
}

// fail ends an update with err: a Task first when the configuration is
// to fix, then the gRPC error.
func (s *server) fail(stream grpc.ServerStreamingServer[fivetranpb.UpdateResponse], err error) error {
	s.log.Error("fivetran: update failed", "error", err.Error())
	if protocol.Classify(err) == protocol.ConfigFailure {
		stream.Send(&fivetranpb.UpdateResponse{Operation: &fivetranpb.UpdateResponse_Task{Task: &fivetranpb.Task{Message: err.Error()}}})
	}
	return statusOf(err)
}

// statusOf returns the gRPC error of err.
func statusOf(err error) error {
	code := codes.Internal
	switch {
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case protocol.Classify(err) == protocol.ConfigFailure:
		code = codes.InvalidArgument
	case protocol.Classify(err) == protocol.TransientFailure:
		code = codes.Unavailable
	}
	return status.Error(code, err.Error())
}

// stateJSON is the state an update checkpoints.
type stateJSON struct {
	Streams json.RawMessage `json:"streams"`
}

// loadState sets st from a request's state_json.
func loadState(text string, st *protocol.State) error {
	if text == "" {
		return nil
	}
	var v stateJSON
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return &protocol.ConfigError{Err: fmt.Errorf("state_json: %w", err)}
	}
	return st.SetStreams(v.Streams)
}

// writer streams an update's commits.
type writer struct {
	send    func(*fivetranpb.UpdateResponse) error
	exclude map[string]map[string]bool // columns not selected, by table
}

// GlobalState reports that a checkpoint holds every stream's state.
func (w *writer) GlobalState() bool { return true }

// Commit sends c's records, then a checkpoint of the state after them
// when it is due.
func (w *writer) Commit(c *protocol.Commit) error {
	if c.N > 0 {
		t := c.Table
		skip := w.exclude[t.Name]
		isKey := make([]bool, len(t.Columns))
		for _, i := range t.KeyIndex() {
			isKey[i] = true
		}
		for i := range c.N {
			row, op := c.Row(i), c.Op(i)
			data := make(map[string]*fivetranpb.ValueType, len(t.Columns))
			for j, col := range t.Columns {
				if !isKey[j] && (skip[col.Name] || op != schema.Upsert) {
					continue // a delete carries its key only
				}
				v, err := value(col.Type, row[j])
				if err != nil {
					return fmt.Errorf("fivetran: table %q, column %q: %w", t.Name, col.Name, err)
				}
				data[col.Name] = v
			}
			rt := fivetranpb.RecordType_UPSERT
			if op != schema.Upsert {
				rt = fivetranpb.RecordType_DELETE
			}
			rec := &fivetranpb.Record{TableName: t.Name, Type: rt, Data: data}
			if err := w.send(&fivetranpb.UpdateResponse{Operation: &fivetranpb.UpdateResponse_Record{Record: rec}}); err != nil {
				return err
			}
		}
	}
	if c.State == nil {
		return nil
	}
	b := c.State.AppendStreams([]byte(`{"streams":`))
	b = append(b, '}')
	return w.send(&fivetranpb.UpdateResponse{Operation: &fivetranpb.UpdateResponse_Checkpoint{
		Checkpoint: &fivetranpb.Checkpoint{StateJson: string(b)}}})
}

// value returns v, a value of a column of type t, as the SDK's value of
// the same type.
func value(t schema.Type, v schema.Value) (*fivetranpb.ValueType, error) {
	vt := &fivetranpb.ValueType{}
	switch {
	case v.Null:
		vt.Inner = &fivetranpb.ValueType_Null{Null: true}
	case t == schema.String:
		vt.Inner = &fivetranpb.ValueType_String_{String_: v.Str}
	case t == schema.Int:
		vt.Inner = &fivetranpb.ValueType_Int{Int: int32(v.Int)}
	case t == schema.Long:
		vt.Inner = &fivetranpb.ValueType_Long{Long: v.Int}
	case t == schema.Double:
		vt.Inner = &fivetranpb.ValueType_Double{Double: v.Float}
	case t == schema.Boolean:
		vt.Inner = &fivetranpb.ValueType_Bool{Bool: v.Bool}
	case t == schema.Decimal:
		vt.Inner = &fivetranpb.ValueType_Decimal{Decimal: v.Str}
	case t == schema.NaiveDate:
		vt.Inner = &fivetranpb.ValueType_NaiveDate{NaiveDate: timestamppb.New(v.Time)}
	case t == schema.UTCDatetime:
		vt.Inner = &fivetranpb.ValueType_UtcDatetime{UtcDatetime: timestamppb.New(v.Time)}
	case t == schema.JSON:
		vt.Inner = &fivetranpb.ValueType_Json{Json: string(v.Bytes)}
	case t == schema.Binary:
		// The row's bytes may alias the record's memory, which the
		// runner reuses once the commit returns.
		vt.Inner = &fivetranpb.ValueType_Binary{Binary: append([]byte(nil), v.Bytes...)}
	default:
		return nil, fmt.Errorf("unknown column type %v", t)
	}
	return vt, nil
}
