package protocol

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/invopop/jsonschema"
	validator "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pagekit/pagekit/connector"
)

// Runnable is what the protocol packages run: a connector whose
// configuration arrives as JSON. *[Source] is the Runnable of a connector
// with a configuration type of its own.
type Runnable interface {
	// Spec describes the connector and the JSON Schema of its
	// configuration.
	Spec() (*Spec, error)
	// Test reports whether config is good: it decodes, and the API takes
	// it. A configuration that is not is reported as a *ConfigError.
	Test(ctx context.Context, config []byte) error
	// Connect builds the connector that config describes, its streams'
	// destinations taken from out.
	Connect(ctx context.Context, config []byte, out *Output) (*connector.Connector, error)
}

// Spec describes a connector to a platform.
type Spec struct {
	// Name names the connector, such as "acme"; the protocols use it as
	// the Singer tap's name and the origin of log lines.
	Name string
	// DocumentationURL is where people read how to configure it.
	DocumentationURL string
	// Config is the JSON Schema (draft 2020-12) of the configuration: an
	// object whose properties follow the configuration struct's fields,
	// every definition inline, with the defaults of Source.Defaults. A
	// property marked writeOnly holds a secret.
	Config *jsonschema.Schema
}

// A Validator is a configuration that checks what its JSON Schema cannot
// say, such as two fields that exclude each other. Validator may be
// implemented by a [Source]'s configuration type C, or by *C: a
// configuration whose Validate fails is refused with a *[ConfigError]
// before Open or Check sees it.
type Validator interface {
	Validate() error
}

// Source is a connector with a configuration of type C, a struct decoded
// from JSON by its json tags. The JSON Schema that platforms show people
// and check configurations against is generated from C by
// github.com/invopop/jsonschema: its jsonschema tags give each field a
// title, a description, an enum, bounds, and "required"; a field tagged
// jsonschema:"writeOnly" holds a secret (a password field in forms, never
// shown again). A field the configuration leaves out keeps its value in
// Defaults. A configuration type may check itself beyond its schema (see
// [Validator]).
//
// Build it once and pass it by pointer: *Source is a [Runnable].
type Source[C any] struct {
	// Name names the connector, such as "acme".
	Name string
	// DocumentationURL is where people read how to configure it.
	DocumentationURL string
	// Defaults is the configuration a user's fills in; its values are
	// the defaults the JSON Schema shows.
	Defaults C
	// Open builds the connector of cfg. Each stream's destination must
	// be a [Sink] of out, from [NewSink]; out.Logger() is the logger to
	// give the connector, whose lines the protocol then carries.
	Open func(ctx context.Context, cfg C, out *Output) (*connector.Connector, error)
	// Check tries cfg against the API, such as by fetching one small
	// page, and returns why it cannot sync. Nil checks only that the
	// configuration decodes and Open builds a connector from it.
	Check func(ctx context.Context, cfg C) error

	once     sync.Once
	spec     *Spec
	props    map[string]bool
	compiled *validator.Schema
	err      error
}

// Spec returns the connector's description and its configuration's JSON
// Schema, built once.
func (s *Source[C]) Spec() (*Spec, error) {
	s.once.Do(s.build)
	return s.spec, s.err
}

func (s *Source[C]) build() {
	if s.Open == nil {
		s.err = errors.New("protocol: Source.Open is nil")
		return
	}
	r := &jsonschema.Reflector{
		DoNotReference:             true,
		ExpandedStruct:             true,
		AllowAdditionalProperties:  true,
		RequiredFromJSONSchemaTags: true,
		Anonymous:                  true,
	}
	sch := r.ReflectFromType(reflect.TypeFor[C]())
	defaults, err := toJSONValue(s.Defaults)
	if err != nil {
		s.err = fmt.Errorf("protocol: encode Source.Defaults: %w", err)
		return
	}
	s.props = make(map[string]bool)
	if m, ok := defaults.(map[string]any); ok && sch.Properties != nil {
		for p := sch.Properties.Oldest(); p != nil; p = p.Next() {
			s.props[p.Key] = true
			if v, ok := m[p.Key]; ok && !emptyJSON(v) {
				p.Value.Default = v
			}
		}
	}
	b, err := json.Marshal(sch)
	if err != nil {
		s.err = fmt.Errorf("protocol: encode the configuration's schema: %w", err)
		return
	}
	if s.compiled, err = compileSchema("config.json", b); err != nil {
		s.err = fmt.Errorf("protocol: the configuration's schema: %w", err)
		return
	}
	s.spec = &Spec{Name: s.Name, DocumentationURL: s.DocumentationURL, Config: sch}
}

// compileSchema compiles the JSON Schema b, named name.
func compileSchema(name string, b []byte) (*validator.Schema, error) {
	doc, err := validator.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	c := validator.NewCompiler()
	if err := c.AddResource(name, doc); err != nil {
		return nil, err
	}
	return c.Compile(name)
}

// toJSONValue returns v as encoding/json would decode its JSON into an
// any, numbers as json.Number.
func toJSONValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	return out, d.Decode(&out)
}

// emptyJSON reports whether a default is not worth showing: null, an
// empty string, array or object.
func emptyJSON(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// Test decodes config and runs Check, or else Open.
func (s *Source[C]) Test(ctx context.Context, config []byte) error {
	cfg, _, err := s.decode(config)
	if err != nil {
		return err
	}
	if s.Check != nil {
		return s.Check(ctx, cfg)
	}
	_, err = s.open(ctx, cfg, NewOutput(nil, nil, nil))
	return err
}

// Connect decodes config and builds its connector with out's sinks. The
// configuration's fields that C does not have are logged as warnings,
// since a misspelt field otherwise silently keeps its default.
func (s *Source[C]) Connect(ctx context.Context, config []byte, out *Output) (*connector.Connector, error) {
	cfg, unknown, err := s.decode(config)
	if err != nil {
		return nil, err
	}
	for _, k := range unknown {
		out.Logger().Warn("protocol: the configuration has a field the connector does not know; it is ignored", "field", k)
	}
	return s.open(ctx, cfg, out)
}

func (s *Source[C]) open(ctx context.Context, cfg C, out *Output) (*connector.Connector, error) {
	c, err := s.Open(ctx, cfg, out)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, &ConfigError{Err: fmt.Errorf("build the connector: %w", err)}
	}
	if c == nil {
		return nil, errors.New("protocol: Source.Open returned no connector and no error")
	}
	return c, nil
}

// decode validates config against the schema and decodes it over the
// defaults. It returns the top-level fields the schema does not name.
func (s *Source[C]) decode(config []byte) (C, []string, error) {
	var cfg C
	if _, err := s.Spec(); err != nil {
		return cfg, nil, err
	}
	if len(bytes.TrimSpace(config)) == 0 {
		config = []byte("{}")
	}
	doc, err := validator.UnmarshalJSON(bytes.NewReader(config))
	if err != nil {
		return cfg, nil, &ConfigError{Err: fmt.Errorf("the configuration is not JSON: %w", err)}
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return cfg, nil, &ConfigError{Err: errors.New("the configuration is not a JSON object")}
	}
	if err := s.compiled.Validate(doc); err != nil {
		return cfg, nil, &ConfigError{Err: schemaError(err)}
	}
	var unknown []string
	for k := range obj {
		if !s.props[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	b, err := json.Marshal(s.Defaults)
	if err == nil {
		err = json.Unmarshal(b, &cfg)
	}
	if err != nil {
		return cfg, nil, fmt.Errorf("protocol: copy Source.Defaults: %w", err)
	}
	if err := json.Unmarshal(config, &cfg); err != nil {
		return cfg, nil, &ConfigError{Err: fmt.Errorf("decode the configuration: %w", err)}
	}
	if v, ok := any(&cfg).(Validator); ok {
		if err := v.Validate(); err != nil {
			return cfg, nil, &ConfigError{Err: err}
		}
	}
	return cfg, unknown, nil
}

// schemaError turns a validation error into one line per problem, each
// naming the field, without the schema's own locations.
func schemaError(err error) error {
	var ve *validator.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	var lines []string
	for _, u := range ve.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		at := u.InstanceLocation
		if at == "" {
			at = "the top level"
		}
		lines = append(lines, fmt.Sprintf("at %s: %s", at, u.Error))
	}
	if len(lines) == 0 {
		return err
	}
	return errors.New("the configuration is not valid: " + strings.Join(lines, "; "))
}
