package spec

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/invopop/jsonschema"
)

var update = flag.Bool("update", false, "rewrite pagekit.schema.json and the golden files")

// generateSchema builds the JSON Schema of a Spec from the Go types and
// their doc comments, which it reads from this directory.
func generateSchema(t *testing.T) []byte {
	t.Helper()
	r := &jsonschema.Reflector{RequiredFromJSONSchemaTags: true}
	if err := r.AddGoComments("github.com/pagekit/pagekit/spec", "."); err != nil {
		t.Fatal(err)
	}
	s := r.Reflect(&Spec{})
	s.ID = SchemaURL
	s.Title = "pagekit spec"
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestSchemaFile keeps pagekit.schema.json, which the package embeds and
// validates specs with, the schema of the Go types as they are.
func TestSchemaFile(t *testing.T) {
	b := generateSchema(t)
	if *update {
		if err := os.WriteFile("pagekit.schema.json", b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(b, schemaJSON) {
		t.Fatal("pagekit.schema.json is not the schema of the Go types: go test ./spec -run TestSchemaFile -update")
	}
	if _, err := compiledSchema(); err != nil {
		t.Fatal(err)
	}
}
