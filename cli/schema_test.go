package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	validator "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/pagekit/pagekit/spec"
)

// TestSchemaCommand checks that pagekit schema prints the JSON Schema
// specs are checked against: a schema that compiles, which the specs of
// the tests and of docs/cli.md meet, and which refuses a spec with an
// unknown field, as an editor would mark it.
func TestSchemaCommand(t *testing.T) {
	code, stdout, stderr := run(t, "schema")
	if code != 0 || stdout != string(spec.JSONSchema()) {
		t.Fatalf("status %d, %d bytes, want the %d of spec.JSONSchema\n%s", code, len(stdout), len(spec.JSONSchema()), stderr)
	}
	doc, err := validator.UnmarshalJSON(strings.NewReader(stdout))
	if err != nil {
		t.Fatal(err)
	}
	c := validator.NewCompiler()
	if err := c.AddResource("pagekit.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("pagekit.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	specs := map[string][]byte{}
	for _, f := range []string{"testdata/shop.yaml", "testdata/check.yaml", flagshipSpec} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		specs[f] = b
	}
	for _, blk := range yamlBlocks(t, "../docs/cli.md") {
		if strings.Contains(blk.text, "streams:") {
			specs["docs/cli.md:"+blk.tag] = []byte(blk.text)
		}
	}
	valid := func(b []byte) error {
		var v any
		if err := yaml.Unmarshal(b, &v); err != nil {
			return err
		}
		j, err := json.Marshal(v)
		if err != nil {
			return err
		}
		inst, err := validator.UnmarshalJSON(bytes.NewReader(j))
		if err != nil {
			return err
		}
		return sch.Validate(inst)
	}
	for name, b := range specs {
		if err := valid(b); err != nil {
			t.Errorf("%s does not meet the schema: %v", name, err)
		}
	}
	if err := valid([]byte("streams:\n  - name: a\n    table: {primary_key: [id]}\n    request: {url: http://x}\n    paging: {strategy: offset, sise: 3}\n")); err == nil {
		t.Error("the schema takes a spec with an unknown field")
	}
}
