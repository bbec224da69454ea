// Package fivetran runs a pagekit connector as a Fivetran partner SDK
// source connector: a gRPC server of the SDK's SourceConnector service
// (protocol v2, package fivetran_sdk.v2; the generated code is in
// package fivetranpb), which Fivetran, the client, calls:
//
//	ConfigurationForm  the setup form, one field per property of the configuration's JSON Schema, and a "connect" test
//	Test               the connect test: the configuration decodes and the API takes it
//	Schema             the tables (without schemas): each stream's table, its typed columns and primary key
//	Update             a sync of the selected tables from state_json: each committed page's Records, then a Checkpoint
//
// Each Checkpoint's state_json follows every Record it covers; it is
// {"streams": {"<stream>": <state>, ...}}, each stream's state its pagekit
// checkpoints as package protocol describes them, so a sync that Fivetran
// restarts from the last state_json it stored loses nothing. pagekit's
// column types map onto the SDK's DataTypes of the same names (String to
// STRING, UTCDatetime to UTC_DATETIME, ...), and its operations onto
// UPSERT and DELETE (a soft delete too: Fivetran marks the row deleted).
// A stream that fails is reported as a Warning while the others go on; the
// Update then ends with a gRPC error, after a Task when the failure is the
// configuration's.
//
// [Serve] listens on --port (default 50051) and writes log lines to
// stdout as JSON, as the SDK's development guide asks.
package fivetran

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/pagekit/pagekit/protocol"
	"github.com/pagekit/pagekit/protocol/fivetran/fivetranpb"
)

// DefaultPort is the port the SDK's tester and platform connect to.
const DefaultPort = 50051

// Serve serves src's SourceConnector on the port of the flag --port in
// args, on every address of the host (IPv4 and IPv6), until ctx is done,
// then stops after the calls in progress, waiting at most 30 seconds. Log
// lines go to stdout as JSON. It returns nil after a stop by ctx.
func Serve(ctx context.Context, src protocol.Runnable, args []string, stdout io.Writer) error {
	log := NewLogger(stdout)
	fs := flag.NewFlagSet("fivetran", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	port := fs.Int("port", DefaultPort, "`port` to listen on")
	if err := fs.Parse(args); err != nil {
		log.Error(fmt.Sprintf("fivetran: %v (usage: --port N)", err))
		return err
	}
	if _, err := src.Spec(); err != nil {
		log.Error(err.Error())
		return err
	}
	lis, err := net.Listen("tcp", fmt.Sprintf(":%d", *port))
	if err != nil {
		log.Error(fmt.Sprintf("fivetran: listen: %v", err))
		return err
	}
	srv := grpc.NewServer()
	fivetranpb.RegisterSourceConnectorServer(srv, NewServer(src, log))
	log.Info("fivetran: serving the SourceConnector", "address", lis.Addr().String())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	select {
	case err := <-done:
		log.Error(fmt.Sprintf("fivetran: serve: %v", err))
		return err
	case <-ctx.Done():
	}
	stopped := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		srv.Stop()
	}
	log.Info("fivetran: stopped")
	return nil
}

// NewLogger returns a logger that writes JSON lines to w as the SDK's
// development guide asks: {"level": "INFO", "message": "...",
// "message-origin": "sdk_connector"}, the levels INFO, WARNING and
// SEVERE.
func NewLogger(w io.Writer) *slog.Logger {
	var mu sync.Mutex
	return slog.New(protocol.NewLogHandler(slog.LevelInfo, func(level slog.Level, line string) {
		lv := "INFO"
		switch {
		case level >= slog.LevelError:
			lv = "SEVERE"
		case level >= slog.LevelWarn:
			lv = "WARNING"
		}
		b, _ := json.Marshal(logLine{Level: lv, Message: line, Origin: "sdk_connector"})
		mu.Lock()
		defer mu.Unlock()
		w.Write(append(b, '\n'))
	}))
}

type logLine struct {
	Level   string `json:"level"`
	Message string `json:"message"`
	Origin  string `json:"message-origin"`
}

// server is the SourceConnector service of a source.
type server struct {
	fivetranpb.UnimplementedSourceConnectorServer
	src protocol.Runnable
	log *slog.Logger
}

// NewServer returns the SourceConnector service of src, to register on a
// grpc.Server of one's own; log receives its log lines (nil discards
// them).
func NewServer(src protocol.Runnable, log *slog.Logger) fivetranpb.SourceConnectorServer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &server{src: src, log: log}
}

// connectTest is the name of the form's one test.
const connectTest = "connect"

// ConfigurationForm returns the setup form of the configuration's JSON
// Schema.
func (s *server) ConfigurationForm(context.Context, *fivetranpb.ConfigurationFormRequest) (*fivetranpb.ConfigurationFormResponse, error) {
	sp, err := s.src.Spec()
	if err != nil {
		return nil, statusOf(err)
	}
	return &fivetranpb.ConfigurationFormResponse{
		SchemaSelectionSupported: false,
		TableSelectionSupported:  true,
		Fields:                   formFields(sp.Config),
		Tests:                    []*fivetranpb.ConfigurationTest{{Name: connectTest, Label: "Connecting to the API"}},
	}, nil
}

// Test runs the connect test.
func (s *server) Test(ctx context.Context, req *fivetranpb.TestRequest) (*fivetranpb.TestResponse, error) {
	if req.GetName() != connectTest {
		return failure(fmt.Sprintf("unknown test %q: the only test is %q", req.GetName(), connectTest)), nil
	}
	cfg, err := s.config(req.GetConfiguration())
	if err == nil {
		err = s.src.Test(ctx, cfg)
	}
	if err != nil {
		s.log.Warn("fivetran: the connect test failed", "error", err.Error())
		return failure(err.Error()), nil
	}
	return &fivetranpb.TestResponse{Response: &fivetranpb.TestResponse_Success{Success: true}}, nil
}

func failure(msg string) *fivetranpb.TestResponse {
	return &fivetranpb.TestResponse{Response: &fivetranpb.TestResponse_Failure{Failure: msg}}
}

// Schema lists the tables of the streams.
func (s *server) Schema(ctx context.Context, req *fivetranpb.SchemaRequest) (*fivetranpb.SchemaResponse, error) {
	streams, err := s.describe(ctx, req.GetConfiguration())
	if err != nil {
		return nil, statusOf(err)
	}
	no := false
	return &fivetranpb.SchemaResponse{
		Response:              &fivetranpb.SchemaResponse_WithoutSchema{WithoutSchema: &fivetranpb.TableList{Tables: tables(streams)}},
		SelectionNotSupported: &no,
	}, nil
}

// describe builds the connector of a configuration to describe its
// streams.
func (s *server) describe(ctx context.Context, conf map[string]string) ([]protocol.Stream, error) {
	cfg, err := s.config(conf)
	if err != nil {
		return nil, err
	}
	c, err := s.src.Connect(ctx, cfg, protocol.NewOutput(nil, nil, s.log))
	if err != nil {
		return nil, err
	}
	return protocol.Streams(c)
}

// config returns a configuration of the form's strings as JSON.
func (s *server) config(conf map[string]string) ([]byte, error) {
	sp, err := s.src.Spec()
	if err != nil {
		return nil, err
	}
	return configJSON(sp.Config, conf)
}

// errNoTable reports a selection that leaves no table to sync.
var errNoTable = errors.New("fivetran: the selection excludes every table")
