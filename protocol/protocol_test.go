package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/strategies"
)

// TestStateRoundTrip saves checkpoints of a top-level stream and of a
// child stream's list and partitions, and reads them back from the JSON a
// platform keeps.
func TestStateRoundTrip(t *testing.T) {
	s := NewState()
	cps := []paginate.Checkpoint{
		{Stream: "users", Position: paginate.Position{Page: 3}, HighWater: "2024-06-01T10:00:00Z", Identity: "size=50&url=%2Fusers"},
		{Stream: "orders", Position: paginate.Position{Token: "list"}, HighWater: "2024-05-01T00:00:00Z"},
		{Stream: "orders/b/with/slashes", Position: paginate.Position{Since: "2024-01-01T00:00:00Z"}, HighWater: "2024-01-01T00:00:00Z"},
		{Stream: "orders/a", Position: paginate.Position{Page: 2}, Drifted: true, LastPage: 42},
	}
	for _, cp := range cps {
		s.save(cp)
	}
	got := NewState()
	if err := got.SetStreams(s.AppendStreams(nil)); err != nil {
		t.Fatal(err)
	}
	for _, cp := range cps {
		back, ok := got.load(cp.Stream)
		if !ok {
			t.Fatalf("%s: not found", cp.Stream)
		}
		if diff := cmp.Diff(cp, back); diff != "" {
			t.Errorf("%s (-saved +loaded):\n%s", cp.Stream, diff)
		}
	}
	if _, ok := got.load("orders/c"); ok {
		t.Error("a partition never saved was found")
	}
	want := `{"checkpoint":{"position":{"token":"list"},"high_water":"2024-05-01T00:00:00Z"},"partitions":{"a":{"position":{"page":2},"drifted":true,"last_page":"42"},"b/with/slashes":{"position":{"since":"2024-01-01T00:00:00Z"},"high_water":"2024-01-01T00:00:00Z"}}}`
	if g := string(got.Stream("orders")); g != want {
		t.Errorf("orders' state:\n got %s\nwant %s", g, want)
	}
	got.DropStream("orders")
	if _, ok := got.load("orders/a"); ok || got.Stream("orders") != nil {
		t.Error("DropStream kept the stream's state")
	}
	for _, bad := range []string{`{"checkpoint": 3}`, `{"partitions": {"": {}}}`, `{"cursor": "x"}`, `[`} {
		if err := NewState().SetStream("users", json.RawMessage(bad)); !errors.As(err, new(*ConfigError)) {
			t.Errorf("SetStream(%s): %v, want a *ConfigError", bad, err)
		}
	}
}

// TestAppendValue writes each column type as JSON.
func TestAppendValue(t *testing.T) {
	at := time.Date(2024, 6, 1, 10, 0, 0, 123456000, time.UTC)
	cases := []struct {
		t    schema.Type
		v    schema.Value
		want string
	}{
		{schema.String, schema.Value{Str: "a\"b\\c\n\x01é\u2028"}, `"a\"b\\c\n\u0001é\u2028"`},
		{schema.String, schema.Value{Str: "bad \xff utf8"}, `"bad \ufffd utf8"`},
		{schema.Long, schema.Value{Int: -42}, `-42`},
		{schema.Double, schema.Value{Float: 1.5e300}, `1.5e+300`},
		{schema.Boolean, schema.Value{Bool: true}, `true`},
		{schema.Decimal, schema.Value{Str: "+007.50"}, `7.50`},
		{schema.Decimal, schema.Value{Str: "-.5e3"}, `-0.5e3`},
		{schema.Decimal, schema.Value{Str: "12."}, `12`},
		{schema.NaiveDate, schema.Value{Time: at}, `"2024-06-01"`},
		{schema.UTCDatetime, schema.Value{Time: at}, `"2024-06-01T10:00:00.123456Z"`},
		{schema.JSON, schema.Value{Bytes: []byte("{\n  \"a\": [1, 2]\n}")}, `{"a":[1,2]}`},
		{schema.Binary, schema.Value{Bytes: []byte{0, 255}}, `"AP8="`},
		{schema.String, schema.Value{Null: true}, `null`},
	}
	for _, c := range cases {
		b, err := AppendValue(nil, c.t, c.v)
		if err != nil || string(b) != c.want {
			t.Errorf("%v %+v: %s, %v; want %s", c.t, c.v, b, err, c.want)
		}
		if !json.Valid(b) {
			t.Errorf("%v %+v: %s is not JSON", c.t, c.v, b)
		}
	}
	if _, err := AppendValue(nil, schema.Double, schema.Value{Float: math.Inf(1)}); err == nil {
		t.Error("an infinite double was written")
	}
}

// FuzzAppendString checks that any string is written as JSON that
// decodes to it (invalid UTF-8 as encoding/json decodes it).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\ nl\n tab\t", "\x00\x1f", "é\u2028\u2029", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q: %s: %v", s, b, err)
		}
		want, _ := json.Marshal(s)
		var w string
		json.Unmarshal(want, &w)
		if got != w {
			t.Fatalf("%q: decodes to %q, want %q", s, got, w)
		}
		if strings.ContainsAny(string(b), "\n\r") {
			t.Fatalf("%q: a line break in %s", s, b)
		}
	})
}

type user struct {
	ID        string    `json:"id" pagekit:",pk"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// recorder is a Writer that keeps what it is given.
type recorder struct {
	lines []string
}

func (r *recorder) Commit(c *Commit) error {
	for i := range c.N {
		b, err := c.AppendJSON(nil, i)
		if err != nil {
			return err
		}
		r.lines = append(r.lines, "record "+c.Stream+" "+string(b))
	}
	if c.State != nil {
		r.lines = append(r.lines, "state "+c.Stream+" "+string(c.State.AppendStreams(nil)))
	}
	return nil
}

// TestSinkWritesStateAfterRecords runs a sync into a Sink and checks that
// each page's records come before the state that covers them, that the
// state resumes, and that records without a checkpoint are refused.
func TestSinkWritesStateAfterRecords(t *testing.T) {
	w := &recorder{}
	out := NewOutput(w, nil, nil)
	m := schema.Must(schema.Derive[user]("users"))
	s := NewSink(out, m, SinkConfig[user]{Cursor: "updatedAt"})
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	items := []user{{"a", t0}, {"b", t0.Add(time.Hour)}, {"c", t0.Add(2 * time.Hour)}}
	res, err := paginate.Run(t.Context(), paginate.PaginatorFunc[user](func(_ context.Context, pos paginate.Position) (paginate.Page[user], error) {
		i := int(pos.Offset)
		if i >= len(items) {
			return paginate.Page[user]{}, nil
		}
		return paginate.Page[user]{Items: items[i : i+1], More: true, Next: paginate.Position{Offset: int64(i + 1)}}, nil
	}), s, paginate.Options[user]{Stream: "users", Group: paginate.Group{Pages: 1}, HighWater: func(u user) string { return u.UpdatedAt.Format(time.RFC3339) }})
	if err != nil || res.Items != 3 {
		t.Fatalf("Run: %+v, %v", res, err)
	}
	var kinds []string
	for _, l := range w.lines {
		kinds = append(kinds, strings.Fields(l)[0])
	}
	if got := strings.Join(kinds, ","); !strings.HasPrefix(got, "record,state,record,state,record,state") {
		t.Errorf("order: %s", got)
	}
	if !strings.Contains(w.lines[1], `"high_water":"2024-01-01T00:00:00Z"`) || strings.Contains(w.lines[1], "01:00:00") {
		t.Errorf("the first state covers more than the first record: %s", w.lines[1])
	}
	if err := s.Write(t.Context(), items); err == nil {
		t.Error("Write without a checkpoint succeeded")
	}
	// An output without a writer describes only.
	d := NewSink(NewOutput(nil, nil, nil), m, SinkConfig[user]{})
	if err := d.Commit(t.Context(), items, paginate.Checkpoint{Stream: "users"}); !errors.Is(err, ErrDescribeOnly) {
		t.Errorf("Commit to a describing output: %v", err)
	}
	if bad := NewSink(out, m, SinkConfig[user]{Cursor: "nope"}); bad.Commit(t.Context(), items, paginate.Checkpoint{Stream: "users"}) == nil {
		t.Error("a cursor that is not a column was accepted")
	}
}

// TestOutputPacesLargeStates checks that a state past smallState is
// written at most once a stateInterval, the records always, and that
// Flush writes the state held back.
func TestOutputPacesLargeStates(t *testing.T) {
	w := &recorder{}
	out := NewOutput(w, nil, nil)
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	out.now = func() time.Time { return now }
	long := strings.Repeat("x", 1000)
	states := 0
	for i := range 200 { // 200 partitions of 1 KB: past smallState from the 65th
		c := &Commit{Stream: "orders", Partition: "p", Checkpoint: paginate.Checkpoint{Stream: "orders/" + strings.Repeat("k", 3) + string(rune('a'+i%26)) + string(rune('a'+i/26)), Identity: long}}
		if err := out.commit(c); err != nil {
			t.Fatal(err)
		}
		if c.State != nil {
			states++
		}
		now = now.Add(100 * time.Millisecond)
	}
	if states < 64 || states > 64+200/10+1 {
		t.Errorf("%d states written of 200 commits", states)
	}
	n := len(w.lines)
	if err := out.Flush(); err != nil || len(w.lines) != n+1 {
		t.Errorf("Flush: %v, %d lines written", err, len(w.lines)-n)
	}
	if err := out.Flush(); err != nil || len(w.lines) != n+1 {
		t.Errorf("a second Flush wrote again: %v", err)
	}
}

// TestClassify says whose each error is to fix.
func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want Failure
	}{
		{&ConfigError{Err: errors.New("x")}, ConfigFailure},
		{&paginate.MismatchError{Stream: "s"}, ConfigFailure},
		{&strategies.HTTPError{StatusCode: 401}, ConfigFailure},
		{&strategies.HTTPError{StatusCode: 503}, TransientFailure},
		{&strategies.HTTPError{StatusCode: 0}, TransientFailure},
		{&strategies.HTTPError{StatusCode: 404}, SystemFailure},
		{errors.New("x"), SystemFailure},
	}
	for _, c := range cases {
		if got := Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

type cfg struct {
	URL   string `json:"url" jsonschema:"required,title=URL"`
	Token string `json:"token,omitempty" jsonschema:"writeOnly=true"`
	Size  int    `json:"size" jsonschema:"minimum=1,maximum=10"`
}

func (c *cfg) Validate() error {
	if strings.HasPrefix(c.URL, "ftp:") {
		return errors.New("url: not http")
	}
	return nil
}

// TestSourceConfig decodes configurations over the defaults, and refuses
// bad ones as *ConfigError.
func TestSourceConfig(t *testing.T) {
	var got cfg
	src := &Source[cfg]{Name: "t", Defaults: cfg{Size: 5}, Open: func(_ context.Context, c cfg, _ *Output) (*connector.Connector, error) {
		got = c
		return nil, errors.New("stop")
	}}
	sp, err := src.Spec()
	if err != nil {
		t.Fatal(err)
	}
	size, _ := sp.Config.Properties.Get("size")
	tok, _ := sp.Config.Properties.Get("token")
	if size.Default != json.Number("5") || !tok.WriteOnly || len(sp.Config.Required) != 1 {
		t.Errorf("schema: size default %v, token writeOnly %v, required %v", size.Default, tok.WriteOnly, sp.Config.Required)
	}
	if _, err := src.Connect(t.Context(), []byte(`{"url": "http://x", "extra": 1}`), NewOutput(nil, nil, nil)); err == nil {
		t.Fatal("Open's error was lost")
	}
	if got.URL != "http://x" || got.Size != 5 {
		t.Errorf("decoded %+v", got)
	}
	for _, bad := range []string{`{}`, `{"url": "http://x", "size": 11}`, `{"url": 3}`, `{"url": "ftp://x"}`, `[1]`, `{"url":`} {
		err := src.Test(t.Context(), []byte(bad))
		if !errors.As(err, new(*ConfigError)) {
			t.Errorf("Test(%s): %v, want a *ConfigError", bad, err)
		}
	}
}
