package protocoltest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pagekit/pagekit/protocol/fivetran/fivetranpb"
)

// FromFivetran returns the records and checkpoints of a Fivetran Update's
// responses as an Output, each response's place its Line: each record's
// data as a JSON object of its values, each checkpoint's state_json's
// streams as a State. Types counts the responses by kind ("RECORD",
// "CHECKPOINT", "WARNING", "TASK").
func FromFivetran(rs []*fivetranpb.UpdateResponse) (*Output, error) {
	o := newOutput()
	for i, r := range rs {
		n := i + 1
		switch op := r.GetOperation().(type) {
		case *fivetranpb.UpdateResponse_Record:
			o.Types["RECORD"]++
			rec := op.Record
			data := make(map[string]any, len(rec.GetData()))
			for k, v := range rec.GetData() {
				data[k] = fivetranValue(v)
			}
			b, err := json.Marshal(data)
			if err != nil {
				return o, err
			}
			o.Records = append(o.Records, Record{Line: n, Stream: rec.GetTableName(), Data: b,
				Deleted: rec.GetType() == fivetranpb.RecordType_DELETE})
		case *fivetranpb.UpdateResponse_Checkpoint:
			o.Types["CHECKPOINT"]++
			var st struct {
				Streams map[string]json.RawMessage `json:"streams"`
			}
			if err := json.Unmarshal([]byte(op.Checkpoint.GetStateJson()), &st); err != nil {
				return o, fmt.Errorf("response %d: state_json: %w", n, err)
			}
			o.States = append(o.States, State{Line: n, Streams: st.Streams, RecordCount: -1})
		case *fivetranpb.UpdateResponse_Warning:
			o.Types["WARNING"]++
			o.Errors = append(o.Errors, "warning: "+op.Warning.GetMessage())
		case *fivetranpb.UpdateResponse_Task:
			o.Types["TASK"]++
			o.Errors = append(o.Errors, "task: "+op.Task.GetMessage())
		default:
			return o, fmt.Errorf("response %d: an operation of type %T", n, op)
		}
	}
	return o, nil
}

// fivetranValue returns a value as JSON would hold it: times in RFC 3339.
func fivetranValue(v *fivetranpb.ValueType) any {
	switch x := v.GetInner().(type) {
	case *fivetranpb.ValueType_Null:
		return nil
	case *fivetranpb.ValueType_Bool:
		return x.Bool
	case *fivetranpb.ValueType_Short:
		return x.Short
	case *fivetranpb.ValueType_Int:
		return x.Int
	case *fivetranpb.ValueType_Long:
		return x.Long
	case *fivetranpb.ValueType_Float:
		return x.Float
	case *fivetranpb.ValueType_Double:
		return x.Double
	case *fivetranpb.ValueType_NaiveDate:
		return x.NaiveDate.AsTime().Format(time.DateOnly)
	case *fivetranpb.ValueType_NaiveDatetime:
		return x.NaiveDatetime.AsTime().Format("2006-01-02T15:04:05.999999")
	case *fivetranpb.ValueType_UtcDatetime:
		return x.UtcDatetime.AsTime().UTC().Format(time.RFC3339Nano)
	case *fivetranpb.ValueType_Decimal:
		return json.Number(x.Decimal)
	case *fivetranpb.ValueType_Binary:
		return base64.StdEncoding.EncodeToString(x.Binary)
	case *fivetranpb.ValueType_String_:
		return x.String_
	case *fivetranpb.ValueType_Json:
		return json.RawMessage(x.Json)
	case *fivetranpb.ValueType_Xml:
		return x.Xml
	case *fivetranpb.ValueType_NaiveTime:
		return x.NaiveTime.AsTime().Format("15:04:05.999999")
	}
	return nil
}
