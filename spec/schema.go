package spec

import (
	"bytes"
	_ "embed"
	"strings"
	"sync"

	"github.com/invopop/jsonschema"
	validator "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pagekit/pagekit/sink/schema"
)

// SchemaURL is where the JSON Schema of specs is published, for the
// first line of a spec file:
//
//	# yaml-language-server: $schema=https://raw.githubusercontent.com/pagekit/pagekit/main/spec/pagekit.schema.json
//
// which gives editors with a YAML language server completion, hover text
// and checks as a spec is typed.
const SchemaURL = "https://raw.githubusercontent.com/pagekit/pagekit/main/spec/pagekit.schema.json"

// schemaJSON is the JSON Schema of a Spec, generated from the Go types
// above and their doc comments (TestSchemaFile regenerates it, and fails
// when it differs: go test ./spec -run TestSchemaFile -update).
//
//go:embed pagekit.schema.json
var schemaJSON []byte

// JSONSchema returns the JSON Schema (draft 2020-12) of a spec.
func JSONSchema() []byte { return bytes.Clone(schemaJSON) }

var compiledSchema = sync.OnceValues(func() (*validator.Schema, error) {
	doc, err := validator.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, err
	}
	c := validator.NewCompiler()
	if err := c.AddResource(SchemaURL, doc); err != nil {
		return nil, err
	}
	return c.Compile(SchemaURL)
})

// secretPattern is what a Secret must be: one reference to the
// environment.
const secretPattern = `^\$\{[A-Za-z_][A-Za-z0-9_]*\}$`

// JSONSchema describes a Secret: a reference to an environment variable.
func (Secret) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Pattern: secretPattern,
		Description: "A credential, taken from the environment: ${NAME}. A spec never holds one.",
		Examples:    []any{"${API_TOKEN}"}}
}

// JSONSchema describes a Duration.
func (Duration) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Pattern: `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`,
		Examples: []any{"30s", "1h30m"}}
}

// JSONSchema describes a Param.
func (Param) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", MinLength: ptr(uint64(1)),
		Description: `Where a value goes: "name" (a query parameter), "query:name", "header:Name", "body:dotted.path", "path:name", or "nowhere".`,
		Examples:    []any{"per_page", "header:X-Page-Token", "body:paging.after", "nowhere"}}
}

// JSONSchema describes a ColumnType: the names of schema's types.
func (ColumnType) JSONSchema() *jsonschema.Schema {
	s := &jsonschema.Schema{Type: "string", Description: "A column type."}
	for t := schema.String; t.Valid(); t++ {
		s.Enum = append(s.Enum, strings.ToLower(t.String()))
	}
	return s
}

func ptr[T any](v T) *T { return &v }
