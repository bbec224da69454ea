package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/pagekit/pagekit/examples/internal/exampletest"
	"github.com/pagekit/pagekit/protocol/fivetran"
	"github.com/pagekit/pagekit/protocol/fivetran/fivetranpb"
	"github.com/pagekit/pagekit/protocol/protocoltest"
)

// fivetranConfig is the setup form's values for api.
func fivetranConfig(api *exampletest.API) map[string]string {
	return map[string]string{"url": api.URL, "page_size": "20", "in_flight": "8", "token": ""}
}

// update runs an Update to its end, or until stop returns true for the
// responses so far, and checks that each checkpoint follows the records
// it covers.
func update(t *testing.T, c fivetranpb.SourceConnectorClient, req *fivetranpb.UpdateRequest, stop func(n int) bool) (*protocoltest.Output, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stream, err := c.Update(ctx, req)
	if err != nil {
		return nil, err
	}
	var rs []*fivetranpb.UpdateResponse
	for {
		r, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			o, perr := protocoltest.FromFivetran(rs)
			if perr != nil {
				t.Fatal(perr)
			}
			return o, err
		}
		rs = append(rs, r)
		if stop != nil && stop(len(rs)) {
			cancel()
		}
	}
	o, err := protocoltest.FromFivetran(rs)
	if err != nil {
		t.Fatal(err)
	}
	var from map[string]json.RawMessage
	if s := req.GetStateJson(); s != "" {
		var st struct {
			Streams map[string]json.RawMessage `json:"streams"`
		}
		json.Unmarshal([]byte(s), &st)
		from = st.Streams
	}
	if err := protocoltest.CheckStates(o, from, streamSpecs); err != nil {
		t.Errorf("update: checkpoints: %v", err)
	}
	return o, nil
}

// stateJSON returns states as an UpdateRequest's state_json.
func stateJSON(states map[string]json.RawMessage) *string {
	b, _ := json.Marshal(map[string]any{"streams": states})
	s := string(b)
	return &s
}

// without is the selection of every table but those named.
func without(names ...string) *fivetranpb.Selection {
	var tabs []*fivetranpb.TableSelection
	for _, n := range []string{"users", "orders", "events"} {
		tabs = append(tabs, &fivetranpb.TableSelection{TableName: n, Included: !slices.Contains(names, n), IncludeNewColumns: true})
	}
	return &fivetranpb.Selection{Selection: &fivetranpb.Selection_WithoutSchema{WithoutSchema: &fivetranpb.TablesWithNoSchema{Tables: tabs}}}
}

// fivetranChecks calls every RPC of the service at c as Fivetran does:
// the form, its test with a good and a bad configuration, the schema, and
// updates (a selection, full, incremental after the source changed, from
// a state from the future). restart, when set, interrupts an update
// itself and returns a client of the service started again; otherwise the
// client cancels an update in the middle.
func fivetranChecks(t *testing.T, c fivetranpb.SourceConnectorClient, api *exampletest.API, restart func(after int) fivetranpb.SourceConnectorClient) {
	ctx := t.Context()
	conf := fivetranConfig(api)

	form, err := c.ConfigurationForm(ctx, &fivetranpb.ConfigurationFormRequest{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, f := range form.GetFields() {
		switch f.GetType().(type) {
		case *fivetranpb.FormField_ToggleField:
			kinds[f.GetName()] = "toggle"
		case *fivetranpb.FormField_TextField:
			kinds[f.GetName()] = f.GetTextField().String()
		}
		if f.GetLabel() == "" {
			t.Errorf("form field %s has no label", f.GetName())
		}
	}
	if kinds["url"] != "PlainText" || kinds["token"] != "Password" || kinds["every_user"] != "toggle" || len(form.GetTests()) != 1 {
		t.Errorf("form: fields %v, tests %v", kinds, form.GetTests())
	}

	for _, tc := range []struct {
		conf map[string]string
		want string
	}{
		{conf, ""},
		{map[string]string{"url": api.URL, "page_size": "500"}, "page_size"},
		{map[string]string{"url": api.URL, "every_user": "maybe"}, "every_user"},
		{map[string]string{"url": "http://127.0.0.1:1"}, "connect"},
	} {
		r, err := c.Test(ctx, &fivetranpb.TestRequest{Name: form.GetTests()[0].GetName(), Configuration: tc.conf})
		switch {
		case err != nil:
			t.Errorf("test %v: %v", tc.conf, err)
		case tc.want == "" && !r.GetSuccess():
			t.Errorf("test %v: %q", tc.conf, r.GetFailure())
		case tc.want != "" && !strings.Contains(r.GetFailure(), tc.want):
			t.Errorf("test %v: %v, want a failure saying %q", tc.conf, r, tc.want)
		}
	}

	sch, err := c.Schema(ctx, &fivetranpb.SchemaRequest{Configuration: conf})
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for _, tb := range sch.GetWithoutSchema().GetTables() {
		var cols []string
		for _, col := range tb.GetColumns() {
			s := col.GetName() + ":" + col.GetType().String()
			if col.GetPrimaryKey() {
				s += ":pk"
			}
			cols = append(cols, s)
		}
		tables = append(tables, tb.GetName()+"("+strings.Join(cols, " ")+")")
	}
	want := []string{
		"users(id:STRING:pk name:STRING email:STRING company:STRING createdAt:UTC_DATETIME updatedAt:UTC_DATETIME)",
		"orders(id:STRING:pk userId:STRING status:STRING amount:LONG currency:STRING createdAt:UTC_DATETIME updatedAt:UTC_DATETIME)",
		"events(id:STRING:pk type:STRING userId:STRING createdAt:UTC_DATETIME)",
	}
	if !slices.Equal(tables, want) {
		t.Errorf("schema:\n got %v\nwant %v", tables, want)
	}

	// A selection without events: no event.
	o, err := update(t, c, &fivetranpb.UpdateRequest{Configuration: conf, Selection: without("events")}, nil)
	if err != nil || o.Types["RECORD"] == 0 || versions(o)["events"] != nil {
		t.Errorf("an update without events: %v, %v records, events %d", err, o.Types, len(versions(o)["events"]))
	}
	// Every table: every version, once; then only what changed.
	first, err := update(t, c, &fivetranpb.UpdateRequest{Configuration: conf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkExactly(t, "first update", versions(first), truth(api))
	api.Update(10)
	api.Insert(4)
	states := first.LastStates()
	inc, err := update(t, c, &fivetranpb.UpdateRequest{Configuration: conf, StateJson: stateJSON(states)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkIncremental(t, inc, states, versions(first), api)
	future := protocoltest.Future(inc.LastStates())
	if o, err := update(t, c, &fivetranpb.UpdateRequest{Configuration: conf, StateJson: stateJSON(future)}, nil); err != nil || len(o.Records) != 0 {
		t.Errorf("an update from a state from the future: %v, %d records", err, len(o.Records))
	}

	// An update interrupted in the middle, then one from its last
	// checkpoint, with records inserted in between.
	for _, after := range []int{150, 700} {
		var first *protocoltest.Output
		var err error
		if restart == nil {
			first, err = update(t, c, &fivetranpb.UpdateRequest{Configuration: conf}, func(n int) bool { return n >= after })
		} else {
			first, err = update(t, c, &fivetranpb.UpdateRequest{Configuration: conf}, func(n int) bool {
				if n == after {
					c = restart(after)
				}
				return false
			})
		}
		if err == nil || len(first.States) == 0 {
			t.Fatalf("interrupted update: %v, %d checkpoints", err, len(first.States))
		}
		api.Insert(2)
		states := first.LastStates()
		second, err := update(t, c, &fivetranpb.UpdateRequest{Configuration: conf, StateJson: stateJSON(states)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkResume(t, first, second, states, api)
	}
}

// TestFivetranInProcess serves the SourceConnector in the test's process
// and calls it over an in-memory connection (bufconn).
func TestFivetranInProcess(t *testing.T) {
	api := serve(t)
	c, logs := inProcess(t)
	fivetranChecks(t, c, api, nil)
	checkLogs(t, logs.Bytes())
}

// inProcess serves the SourceConnector in the test's process until the
// test ends, and returns a client of it over an in-memory connection
// (bufconn) and its log.
func inProcess(t *testing.T) (fivetranpb.SourceConnectorClient, *syncBuffer) {
	lis := bufconn.Listen(1 << 20)
	logs := new(syncBuffer)
	srv := grpc.NewServer()
	fivetranpb.RegisterSourceConnectorServer(srv, fivetran.NewServer(source, fivetran.NewLogger(logs)))
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return fivetranpb.NewSourceConnectorClient(conn), logs
}

// checkLogs checks that every log line is one the SDK's guide allows.
func checkLogs(t *testing.T, b []byte) {
	t.Helper()
	n := 0
	for line := range bytes.Lines(b) {
		n++
		if err := protocoltest.ValidateFivetranLog(line); err != nil {
			t.Errorf("log line %s: %v", line, err)
		}
	}
	if n == 0 {
		t.Error("no log line")
	}
}

// TestFivetranServer runs the example as Fivetran runs a partner
// connector, a process serving on a port, and calls it over TCP; the
// interrupted updates kill the process with SIGKILL mid-update and start
// it again.
func TestFivetranServer(t *testing.T) {
	api := serve(t)
	srv := startServer(t)
	fivetranChecks(t, srv.client, api, func(int) fivetranpb.SourceConnectorClient {
		srv.kill(t)
		srv = startServer(t)
		return srv.client
	})
	srv.stop(t)
	checkLogs(t, srv.logs.Bytes())
}

// server is the example serving the SourceConnector in a process.
type server struct {
	cmd    *exec.Cmd
	conn   *grpc.ClientConn
	client fivetranpb.SourceConnectorClient
	logs   *syncBuffer
	done   chan error
}

// startServer starts the example on a free port and connects to it.
func startServer(t *testing.T) *server {
	t.Helper()
	cmd := exec.Command(binary(t), "fivetran", "--port", "0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Bytes()
			s.logs.Write(append(bytes.Clone(line), '\n'))
			var l struct{ Message string }
			json.Unmarshal(line, &l)
			if a, ok := strings.CutPrefix(l.Message, "fivetran: serving the SourceConnector address="); ok {
				addr <- a
			}
		}
		s.done <- cmd.Wait()
	}()
	var a string
	select {
	case a = <-addr:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the server did not say where it listens:\n%s", s.logs.Bytes())
	}
	_, port, _ := net.SplitHostPort(a)
	if s.conn, err = grpc.NewClient("127.0.0.1:"+port, grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		t.Fatal(err)
	}
	s.client = fivetranpb.NewSourceConnectorClient(s.conn)
	t.Cleanup(func() {
		s.conn.Close()
		s.cmd.Process.Kill()
	})
	return s
}

// kill kills the server with SIGKILL.
func (s *server) kill(t *testing.T) {
	s.cmd.Process.Kill()
	<-s.done
	s.conn.Close()
}

// stop stops the server as a platform does, with SIGTERM, and checks it
// exits cleanly.
func (s *server) stop(t *testing.T) {
	s.conn.Close()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Errorf("the server exited %d after SIGTERM", exit.ExitCode())
		}
	case <-time.After(40 * time.Second):
		t.Error("the server did not stop after SIGTERM")
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.b.Bytes())
}
