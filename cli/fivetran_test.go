package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/protocol/fivetran/fivetranpb"
	"github.com/pagekit/pagekit/protocol/protocoltest"
)

// TestServeFivetran runs the spec of users and their orders (OAuth 2.0,
// a child stream) as a Fivetran partner SDK connector, over a real gRPC
// connection: the setup form is the spec's variables (the client secret
// a password), its test passes, the schema has both tables, and two
// updates, the second from the first's state after users changed, read
// the mock's records.
func TestServeFivetran(t *testing.T) {
	const secret = "cs-5f5e5d5c5b"
	a := serve(t, mockapi.Config{Records: 50, Seed: 12, OAuth: mockapi.OAuth{ClientID: "pagekit-test", ClientSecret: secret, Require: true}})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "fivetran", "testdata/shop.yaml", "--port", fmt.Sprint(port)}, &out, &errOut)
	}()
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", port), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.WaitForReady(true)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := fivetranpb.NewSourceConnectorClient(conn)
	rctx, rcancel := context.WithTimeout(ctx, time.Minute)
	defer rcancel()

	form, err := c.ConfigurationForm(rctx, &fivetranpb.ConfigurationFormRequest{})
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, f := range form.GetFields() {
		fields[f.GetName()] = f.GetTextField().String()
	}
	if diff := cmp.Diff(map[string]string{"API": "PlainText", "CLIENT_SECRET": "Password"}, fields); diff != "" {
		t.Errorf("form fields (-want +got):\n%s", diff)
	}
	conf := map[string]string{"API": a.URL, "CLIENT_SECRET": secret}
	if len(form.GetTests()) == 0 {
		t.Fatal("the form has no test")
	}
	if r, err := c.Test(rctx, &fivetranpb.TestRequest{Name: form.GetTests()[0].GetName(), Configuration: conf}); err != nil || !r.GetSuccess() {
		t.Errorf("test: %v, %v", r, err)
	}
	sch, err := c.Schema(rctx, &fivetranpb.SchemaRequest{Configuration: conf})
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for _, tb := range sch.GetWithoutSchema().GetTables() {
		tables = append(tables, tb.GetName())
	}
	if diff := cmp.Diff([]string{"users", "orders"}, tables); diff != "" {
		t.Errorf("tables (-want +got):\n%s", diff)
	}

	users, orders := make(map[string]string), make(map[string]string)
	var state *string
	for round := range 2 {
		if round > 0 {
			a.Update(8)
		}
		stream, err := c.Update(rctx, &fivetranpb.UpdateRequest{Configuration: conf, StateJson: state})
		if err != nil {
			t.Fatal(err)
		}
		var rs []*fivetranpb.UpdateResponse
		for {
			r, err := stream.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("update %d: %v", round+1, err)
			}
			rs = append(rs, r)
		}
		o, err := protocoltest.FromFivetran(rs)
		if err != nil {
			t.Fatal(err)
		}
		collect(o, users, orders)
		b, _ := json.Marshal(map[string]any{"streams": o.LastStates()})
		s := string(b)
		state = &s
	}
	wantUsers, wantOrders := mockVersions(a)
	if diff := cmp.Diff(wantUsers, users); diff != "" {
		t.Errorf("users (-mock +updates):\n%s", diff)
	}
	if diff := cmp.Diff(wantOrders, orders); diff != "" {
		t.Errorf("orders (-mock +updates):\n%s", diff)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve fivetran: status %d\n%s%s", code, out.String(), errOut.String())
	}
	if strings.Contains(out.String()+errOut.String(), secret) {
		t.Error("the client secret shows in the connector's output")
	}
}
