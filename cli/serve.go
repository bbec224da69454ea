package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/protocol"
	"github.com/pagekit/pagekit/protocol/airbyte"
	"github.com/pagekit/pagekit/protocol/fivetran"
	"github.com/pagekit/pagekit/protocol/singer"
	"github.com/pagekit/pagekit/sink/dynamic"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/spec"
)

// serveCmd is pagekit serve airbyte|singer|fivetran SPEC [ARGS]: the
// spec run as an Airbyte source, a Singer tap or a Fivetran partner SDK
// connector, whose configuration holds the values of the spec's
// ${NAME}s.
func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || strings.HasPrefix(args[1], "-") {
		fmt.Fprintln(stderr, "usage: pagekit serve airbyte|singer|fivetran SPEC [the protocol's arguments]")
		fmt.Fprintln(stderr, "  such as: pagekit serve airbyte api.yaml read --config config.json --catalog catalog.json")
		return 2
	}
	proto, file, rest := args[0], args[1], args[2:]
	data, err := os.ReadFile(file)
	if err != nil {
		return exit(stderr, "serve", err)
	}
	src := &specSource{name: strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)), file: file, data: data}
	switch proto {
	case "airbyte":
		err = airbyte.Run(ctx, src, rest, stdout)
	case "singer":
		err = singer.Run(ctx, src, rest, stdout, stderr)
	case "fivetran":
		err = fivetran.Serve(ctx, src, rest, stdout)
	default:
		fmt.Fprintf(stderr, "pagekit serve: unknown protocol %q: airbyte, singer or fivetran\n", proto)
		return 2
	}
	if err != nil {
		return 1
	}
	return 0
}

// specSource is a spec as a protocol.Runnable. Its configuration is an
// object of strings: the values of the environment variables the spec
// reads (its ${NAME}s), which win over the process's environment; those
// that hold credentials are secrets in the platforms' forms.
type specSource struct {
	name string
	file string
	data []byte
}

var _ protocol.Runnable = (*specSource)(nil)

// Spec describes the connector: its configuration is the spec's
// variables.
func (s *specSource) Spec() (*protocol.Spec, error) {
	props := jsonschema.NewProperties()
	var required []string
	for _, v := range spec.Variables(s.data) {
		p := &jsonschema.Schema{Type: "string", Title: v.Name, Description: "The value of ${" + v.Name + "} in the spec."}
		if v.Secret {
			p.WriteOnly = true
		}
		if _, set := os.LookupEnv(v.Name); !set {
			required = append(required, v.Name)
		}
		props.Set(v.Name, p)
	}
	return &protocol.Spec{Name: "pagekit-" + s.name, DocumentationURL: "https://github.com/pagekit/pagekit/blob/main/docs/cli.md",
		Config: &jsonschema.Schema{Version: "https://json-schema.org/draft/2020-12/schema", Type: "object", Properties: props,
			Required: required, AdditionalProperties: jsonschema.TrueSchema}}, nil
}

// load reads the spec with the configuration's values.
func (s *specSource) load(config []byte) (*spec.Spec, error) {
	vals := make(map[string]string)
	if len(bytes.TrimSpace(config)) > 0 {
		var raw map[string]any
		if err := json.Unmarshal(config, &raw); err != nil {
			return nil, &protocol.ConfigError{Err: fmt.Errorf("the configuration is not a JSON object: %w", err)}
		}
		for k, v := range raw {
			if str, ok := v.(string); ok {
				vals[k] = str
			} else if v != nil {
				vals[k] = fmt.Sprint(v)
			}
		}
	}
	sp, err := spec.Parse(s.file, s.data, func(name string) (string, bool) {
		if v, ok := vals[name]; ok {
			return v, true
		}
		return os.LookupEnv(name)
	})
	if err != nil {
		return nil, &protocol.ConfigError{Err: err}
	}
	return sp, nil
}

// Test checks the configuration: the spec reads with it, and the first
// page of each stream comes.
func (s *specSource) Test(ctx context.Context, config []byte) error {
	sp, err := s.load(config)
	if err != nil {
		return err
	}
	for _, st := range sp.Streams {
		if _, err := sp.Probe(ctx, st.Name); err != nil {
			return &protocol.ConfigError{Err: err}
		}
	}
	return nil
}

// Connect builds the connector of the spec, its tables fixed by their
// first pages, each written to out.
func (s *specSource) Connect(ctx context.Context, config []byte, out *protocol.Output) (*connector.Connector, error) {
	sp, err := s.load(config)
	if err != nil {
		return nil, err
	}
	b, err := sp.Build(ctx, protocolDest{out: out, spec: sp}, spec.Settings{Static: true, Logger: out.Logger()})
	if err != nil {
		return nil, err
	}
	return b.Connector, nil
}

// protocolDest is a protocol's Output as a spec's destination.
type protocolDest struct {
	out  *protocol.Output
	spec *spec.Spec
}

// protocolSink is a protocol.Sink with the Close a destination's sink
// has; it keeps the protocol's own methods, by which the protocols find
// it in the connector.
type protocolSink struct {
	*protocol.Sink[spec.Record]
}

func (protocolSink) Close() error { return nil }

func (d protocolDest) Open(_ context.Context, m *schema.Mapping[spec.Record]) (dynamic.Sink, error) {
	t := m.Table()
	name := t.Name
	var cursor string
	for _, st := range d.spec.Streams {
		tbl := st.Table.Name
		if tbl == "" {
			tbl = st.Name
		}
		if tbl == name {
			cursor = st.Options.HighWater
		}
	}
	if t.ColumnIndex(cursor) < 0 {
		cursor = ""
	}
	return protocolSink{protocol.NewSink(d.out, m, protocol.SinkConfig[spec.Record]{Cursor: cursor})}, nil
}
